/**
 * Real Lambda web adapters behind the gateway, as HTTP API (payload 2.0) and REST API (payload
 * 1.0) integrations: Hono (`hono/aws-lambda`), Express (`@codegenie/serverless-express`) and
 * Fastify (`@fastify/aws-lambda`) answer exactly as the same app run natively, to Node's own
 * clients; middy answers the values its handlers are written to give.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { FIXTURES, startFixtureServer, type FixtureServer } from '../helpers/fixture-server.js';

const ADAPTERS = join(FIXTURES, 'adapters');

/** The fixture apps' shared constants (test/fixtures/adapters/contract.mjs). */
const { IMAGE } = await import(pathToFileURL(join(ADAPTERS, 'contract.mjs')).href) as { IMAGE: Buffer };

/** Every byte value, in an order no text encoding keeps: the binary request body. */
const UPLOAD = Buffer.from(Array.from({ length: 512 }, (_, i) => (i * 167 + 13) % 256));

/**
 * Headers that differ between a native run and the gateway for reasons that are not bugs:
 * `date` is the time of answering; `connection`/`keep-alive` belong to each hop;
 * `apigw-requestid` is the gateway's own; `content-length`/`transfer-encoding` are framing the
 * gateway recomputes (a native streamed body may be chunked) while the bodies are compared byte for byte.
 */
const NOT_COMPARED: ReadonlySet<string> = new Set(['date', 'connection', 'keep-alive', 'apigw-requestid', 'content-length', 'transfer-encoding']);

/** One response as a client sees it, in a form two runs can be compared in. */
interface Answer {
  readonly status: number;
  /** Lower-case name → values, a repeated header and its comma-joined form being the same list (RFC 9110 §5.3). */
  readonly headers: Record<string, string[]>;
  readonly setCookies: string[];
  readonly body: Buffer;
}

interface Call {
  readonly method?: string;
  readonly headers?: Record<string, string>;
  readonly body?: Buffer;
}

function values(value: string): string[] {
  return value.split(',').map((part) => part.trim());
}

async function viaFetch(url: string, call: Call = {}): Promise<Answer> {
  const response = await fetch(url, { method: call.method ?? 'GET', headers: call.headers, body: call.body });
  const headers: Record<string, string[]> = {};
  for (const [name, value] of response.headers) if (name !== 'set-cookie' && !NOT_COMPARED.has(name)) headers[name] = values(value);
  return { status: response.status, headers, setCookies: response.headers.getSetCookie(), body: Buffer.from(await response.arrayBuffer()) };
}

function viaHttp(url: string, call: Call = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(url, { method: call.method ?? 'GET', headers: call.headers }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('error', reject);
      response.on('end', () => {
        const headers: Record<string, string[]> = {};
        for (const [name, value] of Object.entries(response.headers)) {
          if (name !== 'set-cookie' && !NOT_COMPARED.has(name) && value !== undefined) headers[name] = values(String(value));
        }
        resolve({ status: response.statusCode!, headers, setCookies: response.headers['set-cookie'] ?? [], body: Buffer.concat(chunks) });
      });
    });
    request.on('error', reject);
    request.end(call.body);
  });
}

const CLIENTS = [['fetch', viaFetch], ['node:http', viaHttp]] as const;

/** The requests every app answers (test/fixtures/adapters/contract.mjs). */
const ECHO: Call = { headers: { Cookie: 'x=1; y=two' } };
const ECHO_QUERY = '/echo?a=1&a=2&b=x%20y';
const UPLOAD_CALL: Call = { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: UPLOAD };

/** Each API kind: its manifest, and whether binary request bodies reach the function intact. */
const APIS = [
  { name: 'HTTP API (payload 2.0)', manifest: 'http-api.json', binaryRequests: true },
  // A REST API without binaryMediaTypes hands request bodies over as UTF-8 text, as AWS does.
  { name: 'REST API (payload 1.0)', manifest: 'rest-api.json', binaryRequests: false },
] as const;

/** Starts `name`'s app natively on 127.0.0.1:0; resolves with its base URL and a way to stop it. */
async function listenNatively(name: 'hono' | 'express' | 'fastify'): Promise<{ url: string; close(): Promise<void> }> {
  const { app } = await import(pathToFileURL(join(ADAPTERS, `${name}.mjs`)).href);
  if (name === 'fastify') {
    const url: string = await app.listen({ port: 0, host: '127.0.0.1' });
    return { url, close: () => app.close() };
  }
  let server: Server;
  if (name === 'hono') {
    const { serve } = await import('@hono/node-server');
    server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }) as Server;
  } else {
    server = app.listen(0, '127.0.0.1');
  }
  if (!server.listening) await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}

describe('web framework adapters behind the gateway', () => {
  const gateways = new Map<string, FixtureServer>();
  before(async () => {
    for (const api of APIS) gateways.set(api.manifest, await startFixtureServer({ config: join(ADAPTERS, api.manifest), httpPort: 0 }));
  });
  after(async () => {
    for (const gateway of gateways.values()) await gateway.close();
  });
  const gatewayUrl = (manifest: string) => gateways.get(manifest)!.server.httpUrl!;

  for (const framework of ['hono', 'express', 'fastify'] as const) {
    describe(framework, () => {
      let native: Awaited<ReturnType<typeof listenNatively>>;
      before(async () => {
        native = await listenNatively(framework);
      });
      after(() => native.close());

      for (const api of APIS) {
        for (const [clientName, client] of CLIENTS) {
          it(`${api.name}, ${clientName}: same status, headers, repeated header, cookies and query arrays as natively`, async () => {
            const expected = await client(`${native.url}/${framework}${ECHO_QUERY}`, ECHO);
            const actual = await client(`${gatewayUrl(api.manifest)}/${framework}${ECHO_QUERY}`, ECHO);
            // The app itself answers as the contract says (natively), so the comparison is not between two wrong answers.
            assert.equal(expected.status, 200);
            assert.deepEqual(JSON.parse(expected.body.toString()), { a: ['1', '2'], b: 'x y', cookies: { x: '1', y: 'two' } });
            assert.deepEqual(expected.headers['x-multi'], ['one', 'two']);
            assert.equal(expected.setCookies.length, 2);
            assert.deepEqual(actual, expected);
          });

          it(`${api.name}, ${clientName}: a byte-identical binary response body`, async () => {
            const expected = await client(`${native.url}/${framework}/image`);
            const actual = await client(`${gatewayUrl(api.manifest)}/${framework}/image`);
            assert.deepEqual(expected.body, IMAGE);
            assert.deepEqual(actual, expected);
          });

          if (api.binaryRequests) {
            it(`${api.name}, ${clientName}: a byte-identical binary request body`, async () => {
              const expected = await client(`${native.url}/${framework}/upload`, UPLOAD_CALL);
              const actual = await client(`${gatewayUrl(api.manifest)}/${framework}/upload`, UPLOAD_CALL);
              assert.equal(expected.status, 201);
              assert.deepEqual(expected.body, UPLOAD);
              assert.deepEqual(actual, expected);
            });
          }
        }
      }
    });
  }

  describe('middy', () => {
    for (const api of APIS) {
      for (const [clientName, client] of CLIENTS) {
        it(`${api.name}, ${clientName}: the status, headers, cookies and query arrays its handlers give`, async () => {
          const answer = await client(`${gatewayUrl(api.manifest)}/middy${ECHO_QUERY}`, ECHO);
          assert.equal(answer.status, 200);
          assert.deepEqual(answer.headers['content-type'], ['application/json']);
          assert.deepEqual(answer.headers['x-multi'], ['one', 'two']);
          assert.deepEqual(answer.setCookies, ['a=1; Path=/', 'b=2; HttpOnly']);
          assert.deepEqual(JSON.parse(answer.body.toString()), { a: ['1', '2'], b: 'x y', cookies: { x: '1', y: 'two' } });
        });

        it(`${api.name}, ${clientName}: a byte-identical binary response body`, async () => {
          const answer = await client(`${gatewayUrl(api.manifest)}/middy/image`);
          assert.equal(answer.status, 200);
          assert.deepEqual(answer.headers['content-type'], ['image/png']);
          assert.deepEqual(answer.body, IMAGE);
        });

        if (api.binaryRequests) {
          it(`${api.name}, ${clientName}: a byte-identical binary request body`, async () => {
            const answer = await client(`${gatewayUrl(api.manifest)}/middy/upload`, UPLOAD_CALL);
            assert.equal(answer.status, 201);
            assert.deepEqual(answer.body, UPLOAD);
          });
        }
      }
    }
  });
});
