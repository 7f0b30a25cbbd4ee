/** `node:http` as the server takes it: without the fetch classes its ES facade would load. */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';

const NODE_HTTP = new URL('../../src/http/node-http.js', import.meta.url).href;

/** The built-in modules a fresh Node.js process has loaded after running `code` (an ES module). */
function loadedAfter(code: string): string[] {
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', `${code}\nconsole.log(JSON.stringify(process.moduleLoadList))`], { encoding: 'utf8' });
  return JSON.parse(out) as string[];
}

describe('node-http', () => {
  it('gives the server createServer and IncomingMessage without loading undici, which an ES import of node:http does', () => {
    const ours = loadedAfter(`const { createServer, IncomingMessage } = await import(${JSON.stringify(NODE_HTTP)}); if (typeof createServer !== 'function' || typeof IncomingMessage !== 'function') throw new Error('missing');`);
    assert.ok(ours.includes('NativeModule http'), 'node:http itself is loaded');
    assert.deepEqual(ours.filter((name) => name.includes('undici')), []);
    // What the module saves: the same process with an ES import of node:http.
    const imported = loadedAfter("await import('node:http');");
    assert.ok(imported.some((name) => name.includes('undici')), 'an ES import of node:http loads undici (else this test proves nothing)');
  });
});
