/** The X-Ray trace header: new ones well-formed and distinct, a caller's kept only as far as it is valid. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { newTraceHeader, traceHeaderFrom, traceIdOf } from '../../src/handler/trace-header.js';

const HEADER = /^Root=1-([0-9a-f]{8})-[0-9a-f]{24};Parent=[0-9a-f]{16};Sampled=0$/;

describe('newTraceHeader', () => {
  it('is well-formed, dated now, and never repeats across pool refills', () => {
    const seen = new Set<string>();
    const before = Math.floor(Date.now() / 1000);
    // Past several 4 KB pools, so that refills are covered.
    for (let i = 0; i < 1000; i++) {
      const header = newTraceHeader();
      const match = HEADER.exec(header);
      assert.ok(match, header);
      const seconds = parseInt(match[1]!, 16);
      assert.ok(seconds >= before && seconds <= Math.floor(Date.now() / 1000));
      seen.add(header);
    }
    assert.equal(seen.size, 1000);
  });
});

describe('traceHeaderFrom', () => {
  const ROOT = '1-5759e988-bd862e3fe1be46a994272793';
  const cases: Array<[string, string | undefined, string | RegExp]> = [
    ['a whole header as is', `Root=${ROOT};Parent=53995c3f42cd8ad8;Sampled=1`, `Root=${ROOT};Parent=53995c3f42cd8ad8;Sampled=1`],
    ['parts in any order, spaces trimmed, hex lower-cased', ` Sampled=1 ; Parent=53995C3F42CD8AD8;Root=${ROOT.toUpperCase()}`, `Root=${ROOT};Parent=53995c3f42cd8ad8;Sampled=1`],
    ['a root alone: a new parent, not sampled', `Root=${ROOT}`, new RegExp(`^Root=${ROOT};Parent=[0-9a-f]{16};Sampled=0$`)],
    ['unknown parts dropped', `Root=${ROOT};Self=1-abc;Lineage=x:1;Sampled=?`, new RegExp(`^Root=${ROOT};Parent=[0-9a-f]{16};Sampled=0$`)],
    ['an invalid parent replaced', `Root=${ROOT};Parent=xyz\r\nSet-Cookie: a=b`, new RegExp(`^Root=${ROOT};Parent=[0-9a-f]{16};Sampled=0$`)],
    ['no header: a new trace', undefined, HEADER],
    ['an empty header: a new trace', '', HEADER],
    ['a root of the wrong version: a new trace', 'Root=2-5759e988-bd862e3fe1be46a994272793', HEADER],
    ['a root too long: a new trace', `Root=${ROOT}0`, HEADER],
    ['a root with a line break: a new trace', `Root=${ROOT}\n`, new RegExp(`^Root=${ROOT};Parent=[0-9a-f]{16};Sampled=0$`)],
    ['a header past 1024 characters: a new trace', `Root=${ROOT};${'a=b;'.repeat(300)}`, HEADER],
  ];
  for (const [what, incoming, expected] of cases) {
    it(what, () => {
      const header = traceHeaderFrom(incoming);
      if (typeof expected === 'string') assert.equal(header, expected);
      else assert.match(header, expected);
      if (expected === HEADER) assert.ok(!header.includes('5759e988'), header);
    });
  }

  it('traceIdOf reads the root of a header built here', () => {
    assert.equal(traceIdOf(traceHeaderFrom(`Root=${ROOT}`)), ROOT);
    assert.match(traceIdOf(newTraceHeader()), /^1-[0-9a-f]{8}-[0-9a-f]{24}$/);
  });
});
