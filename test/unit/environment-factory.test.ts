/** The environment factory's worker threads started ahead of a server's first cold start. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { FunctionDefinition, IsolationKind } from '../../src/registry/function-definition.js';
import { EnvironmentFactory } from '../../src/runtime/environment-factory.js';
import { FIXTURES } from '../helpers/fixture-server.js';

function definition(name: string, isolation: IsolationKind, memorySize: number, extra: Partial<FunctionDefinition> = {}): FunctionDefinition {
  return {
    name, version: '$LATEST', runtime: 'nodejs22.x', handler: 'functions/echo.handler', root: FIXTURES, timeout: 3, memorySize,
    environment: {}, isolation, description: '', ...extra,
  };
}

describe('worker threads prepared for declared functions', () => {
  it('starts one for the memory size most worker functions have, and none for other kinds', async () => {
    const factory = new EnvironmentFactory('us-east-1');
    try {
      const prepared = factory.prepareWorkers([
        definition('small', 'worker', 128),
        definition('big-a', 'worker', 512),
        definition('big-b', 'worker', 512),
        definition('in-process', 'inline', 1024),
        definition('in-process-b', 'inline', 1024),
        definition('in-process-c', 'inline', 1024),
        definition('runtime', 'process', 2048),
        definition('mocked', 'worker', 256, { mock: { example: {}, errors: [] } }),
        definition('mocked-b', 'worker', 256, { mock: { example: {}, errors: [] } }),
        definition('mocked-c', 'worker', 256, { mock: { example: {}, errors: [] } }),
      ]);
      assert.equal(prepared, 512);
      assert.equal(factory.readyWorkers(512), 1);
      for (const size of [128, 256, 1024, 2048]) assert.equal(factory.readyWorkers(size), 0, `${size} MB`);
      // Prepared again (hot reload, a second call): still one.
      factory.prepareWorkers([definition('big-a', 'worker', 512)]);
      assert.equal(factory.readyWorkers(512), 1);
      // A cold start binds it, and another is started for the next.
      const environment = factory.create(definition('big-a', 'worker', 512));
      assert.equal(factory.readyWorkers(512), 0);
      await environment.dispose();
    } finally {
      await factory.close();
    }
  });

  it('starts none where no function runs in a worker, and takes the first size on a tie', async () => {
    const factory = new EnvironmentFactory('us-east-1');
    try {
      assert.equal(factory.prepareWorkers([definition('a', 'inline', 128), definition('b', 'process', 128)]), undefined);
      assert.equal(factory.readyWorkers(128), 0);
      assert.equal(factory.prepareWorkers([definition('c', 'worker', 256), definition('d', 'worker', 128)]), 256);
    } finally {
      await factory.close();
    }
  });
});
