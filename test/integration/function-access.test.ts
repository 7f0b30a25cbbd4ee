/**
 * A function's own `new LambdaClient({})` reaches serverfull, not AWS: every environment gets
 * `AWS_ENDPOINT_URL_LAMBDA` and temporary credentials, in every isolation mode.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { FIXTURES, startFixtureServer, type FixtureServer } from '../helpers/fixture-server.js';

for (const isolation of ['inline', 'worker', 'process'] as const) {
  describe(`a function calling serverfull with the SDK, ${isolation} isolation`, () => {
    let fx: FixtureServer;
    before(async () => {
      fx = await startFixtureServer({
        config: undefined,
        root: FIXTURES,
        isolation,
        functions: {
          caller: { handler: 'functions/nested-invoke.handler', timeout: 30 },
          callee: { handler: 'functions/echo.handler', timeout: 30, environment: { SECRET: 'callee-secret' } },
          elsewhere: { handler: 'functions/nested-invoke.handler', timeout: 30, environment: { AWS_ENDPOINT_URL_LAMBDA: 'http://127.0.0.1:9' } },
        },
      });
    });
    after(() => fx.close());

    it('invokes another function through the endpoint and credentials of its environment', async () => {
      const out = await fx.invoke('caller', { target: 'callee', payload: { hello: 'inside' } });
      assert.equal(out.FunctionError, undefined, out.text);
      assert.equal(out.json.endpoint, fx.server.url);
      assert.match(out.json.accessKeyId, /^ASIA[A-Z2-7]{16}$/);
      assert.equal(out.json.hasSessionToken, true);
      assert.equal(out.json.innerError, undefined);
      assert.deepEqual(out.json.inner.event, { hello: 'inside' });
      // The callee ran in its own environment, with its own variables.
      assert.equal(out.json.inner.env.SECRET, 'callee-secret');
    });

    it("keeps an endpoint the function's configuration sets", async () => {
      const out = await fx.invoke('elsewhere', { target: 'callee' });
      assert.equal(out.FunctionError, 'Unhandled');
      assert.match(out.json.errorMessage, /ECONNREFUSED|connect/);
    });
  });
}
