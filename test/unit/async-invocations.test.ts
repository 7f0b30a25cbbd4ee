/** The Event queue's maximum event age, on a clock the test moves: the function's own age wins over the server's. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { throttled } from '../../src/errors.js';
import type { LogFields, Logger } from '../../src/log.js';
import type { FunctionDefinition } from '../../src/registry/function-definition.js';
import { AsyncInvocations } from '../../src/runtime/async-invocations.js';
import type { InvokeInput, InvokeOutput, Invoker } from '../../src/runtime/invoker.js';

function definition(name: string, maximumEventAge?: number): FunctionDefinition {
  return {
    name, version: '$LATEST', runtime: 'nodejs22.x', handler: 'index.handler', root: '/nowhere', timeout: 3, memorySize: 128,
    environment: {}, isolation: 'inline', description: '', ...(maximumEventAge === undefined ? {} : { maximumEventAge }),
  };
}

function input(fn: FunctionDefinition, requestId: string): InvokeInput {
  return { definition: fn, requestId, payload: '{"secret":"s3cr3t"}', event: { secret: 's3cr3t' }, invokedFunctionArn: `arn:${fn.name}`, tail: false };
}

describe('AsyncInvocations: maximum event age', () => {
  it('drops an event past its function\'s maximum event age, and keeps one whose function has none past the server\'s shorter wait', async () => {
    let clock = 0;
    const lines: { msg: string; fields: LogFields }[] = [];
    const logger: Logger = { enabled: () => true, log: (_level, msg, fields = {}) => void lines.push({ msg, fields }) };
    // Each event is throttled once; before its retry, the clock has moved 61 seconds.
    const attempts = new Map<string, number>();
    const ran: string[] = [];
    const invoker = {
      invokeAsync(event: InvokeInput): Promise<InvokeOutput> {
        const count = (attempts.get(event.requestId) ?? 0) + 1;
        attempts.set(event.requestId, count);
        if (count === 1) {
          clock += 61_000;
          return Promise.reject(throttled('ConcurrentInvocationLimitExceeded'));
        }
        ran.push(event.requestId);
        return Promise.resolve({ payload: 'null', executedVersion: '$LATEST' });
      },
    } as unknown as Invoker;
    const events = new AsyncInvocations(invoker, logger, { maxEvents: 10, maxBytes: 10_000, maxEventAge: 21_600 }, () => clock);
    events.submit(input(definition('short-lived', 60), 'dropped'));
    events.submit(input(definition('patient'), 'kept'));
    while (events.pending > 0) await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(ran, ['kept']);
    const dropped = lines.filter((line) => /older than the maximum event age/.test(line.msg));
    assert.equal(dropped.length, 1);
    const { ageSeconds, ...fields } = dropped[0]!.fields;
    assert.deepEqual(fields, { function: 'short-lived', requestId: 'dropped', maxEventAge: 60 });
    assert.ok(Number(ageSeconds) > 60, `aged ${ageSeconds} s`);
    assert.ok(!JSON.stringify(lines).includes('s3cr3t'), 'no event content in the log');
    assert.equal(events.pendingBytes, 0);
  });
});
