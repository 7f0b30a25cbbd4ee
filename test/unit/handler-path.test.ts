/** The handler containment rule, and the loader's own check behind it. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { resolveHandlerFile } from '../../src/handler/handler-loader.js';
import { handlerEscape, isInsideFolder } from '../../src/registry/handler-path.js';
import { FIXTURES } from '../helpers/fixture-server.js';

describe('handlerEscape', () => {
  for (const handler of ['index.handler', 'functions/echo.handler', 'a/b/c.d.e', './index.handler', 'dir..name/x.handler', '..hidden.handler', 'serverfull/command-runner']) {
    it(`accepts ${JSON.stringify(handler)}`, () => assert.equal(handlerEscape(handler), undefined));
  }
  for (const [handler, reason] of [
    ['../x.handler', /"\.\." segment/],
    ['../../x.handler', /"\.\." segment/],
    ['a/../../x.handler', /"\.\." segment/],
    ['/etc/passwd.handler', /absolute/],
    ['C:/x.handler', /absolute/],
    ['..\\x.handler', /backslash/],
    ['x\0.handler', /NUL/],
  ] as const) {
    it(`refuses ${JSON.stringify(handler)}`, () => assert.match(handlerEscape(handler) ?? '', reason));
  }
});

describe('resolveHandlerFile', () => {
  it('finds a file inside the folder', () => assert.ok(resolveHandlerFile(FIXTURES, 'functions/echo')));
  it('finds nothing outside it, even when the file exists', () => {
    assert.equal(resolveHandlerFile(`${FIXTURES}/functions`, '../functions/echo'), undefined);
    assert.equal(resolveHandlerFile(FIXTURES, `${FIXTURES}/functions/echo`), undefined);
  });
  it('isInsideFolder compares resolved paths', () => {
    assert.equal(isInsideFolder('/srv/code', 'a/b.js'), true);
    assert.equal(isInsideFolder('/srv/code', '../code-other/b.js'), false);
  });
});
