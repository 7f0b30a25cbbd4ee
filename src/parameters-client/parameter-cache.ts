/**
 * @module parameters-client/parameter-cache
 * `serverfull/parameters`: a small caching Parameter Store client for function code, on serverfull and on
 * AWS alike. Values are kept for a TTL (300 s by default, as the Parameters and Secrets extension); once
 * one is stale, a version check reads the parameter again without decryption (so a SecureString is not
 * decrypted, nor sent in plain text, when it has not changed) and keeps the cached value while the version
 * is the same. `invalidate(name?)` drops one entry (or all) at once.
 *
 * It speaks the SSM API itself (AWS JSON 1.1 over `fetch`, signed with SigV4), so that function code needs
 * no SSM SDK: the endpoint is `AWS_ENDPOINT_URL_SSM` (which serverfull sets), else `AWS_ENDPOINT_URL`, else
 * AWS's regional one; the credentials are the environment's (`AWS_ACCESS_KEY_ID`, ...), else the AWS SDK's
 * default chain. It needs `ssm:GetParameter` (and `ssm:GetParametersByPath` for paths), nothing more.
 *
 *   import { get, getByPath, invalidate } from 'serverfull/parameters';
 *   const url = await get('/orders/common/db-url');
 */
import { SignatureV4 } from '@smithy/signature-v4';
import { NodeSha256 } from '../auth/node-sha256.js';

/** Credentials as the AWS SDKs take them. */
export interface ParameterCacheCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

/** How a cache reaches the Parameter Store, and how long it keeps values. */
export interface ParameterCacheOptions {
  /** Seconds a value is used without asking again; 0 asks every time. Default 300. */
  readonly ttlSeconds?: number;
  /** The SSM endpoint; default `AWS_ENDPOINT_URL_SSM`, `AWS_ENDPOINT_URL`, else `https://ssm.<region>.amazonaws.com`. */
  readonly endpoint?: string;
  /** Default `AWS_REGION`, `AWS_DEFAULT_REGION`, else us-east-1. */
  readonly region?: string;
  /** Default: the environment's, else the AWS SDK's default credential chain. */
  readonly credentials?: ParameterCacheCredentials | (() => Promise<ParameterCacheCredentials>);
  /** The clock, in milliseconds; for tests. */
  readonly now?: () => number;
}

/** An error the Parameter Store answered with: `name` is its type (`ParameterNotFound`, `AccessDeniedException`, ...). */
export class ParameterStoreError extends Error {
  constructor(name: string, message: string, readonly status: number) {
    super(message === '' ? name : message);
    this.name = name;
  }
}

/** One parameter as the SSM API answers it. */
interface WireParameter {
  readonly Name: string;
  readonly Type: string;
  readonly Value: string;
  readonly Version: number;
}

interface Entry<T> {
  value: T;
  /** For a name, its version; for a path, each name's. */
  versions: string;
  expires: number;
}

/** A Parameter Store client that caches what it reads. */
export class ParameterCache {
  private readonly ttlMs: number;
  private readonly now: () => number;
  private readonly names = new Map<string, Entry<string>>();
  private readonly paths = new Map<string, Entry<Record<string, string>>>();
  /** Reads in flight, shared by concurrent callers of the same key. */
  private readonly pending = new Map<string, Promise<unknown>>();
  private signer: SignatureV4 | undefined;
  private readonly endpoint: URL;

  constructor(private readonly options: ParameterCacheOptions = {}) {
    this.ttlMs = Math.max(0, options.ttlSeconds ?? 300) * 1000;
    this.now = options.now ?? Date.now;
    const region = this.region();
    this.endpoint = new URL(options.endpoint ?? process.env.AWS_ENDPOINT_URL_SSM ?? process.env.AWS_ENDPOINT_URL ?? `https://ssm.${region}.amazonaws.com`);
  }

  /** The value of `name` (a SecureString decrypted; `name:3` and `name:label` select a version), from the cache while it is fresh. */
  get(name: string): Promise<string> {
    return this.once(`n:${name}`, async () => {
      const cached = this.names.get(name);
      if (cached !== undefined && cached.expires > this.now()) return cached.value;
      // Stale or absent: read without decryption first; unchanged, the cached value stays.
      const plain = await this.getParameter(name, false);
      let value: string;
      if (cached !== undefined && cached.versions === String(plain.Version)) value = cached.value;
      else value = plain.Type === 'SecureString' ? (await this.getParameter(name, true)).Value : plain.Value;
      this.names.set(name, { value, versions: String(plain.Version), expires: this.now() + this.ttlMs });
      return value;
    });
  }

  /** Every parameter under `path` (at any depth unless `recursive` is false), by name, SecureStrings decrypted. */
  getByPath(path: string, { recursive = true }: { recursive?: boolean } = {}): Promise<Readonly<Record<string, string>>> {
    const key = `${recursive ? 'r' : 'o'}:${path}`;
    return this.once(`p:${key}`, async () => {
      const cached = this.paths.get(key);
      if (cached !== undefined && cached.expires > this.now()) return cached.value;
      const listed = await this.listPath(path, recursive, false);
      const versions = listed.map((p) => `${p.Name}@${p.Version}`).join('\n');
      let value: Record<string, string>;
      if (cached !== undefined && cached.versions === versions) {
        value = cached.value;
      } else {
        const decrypted = listed.some((p) => p.Type === 'SecureString') ? await this.listPath(path, recursive, true) : listed;
        value = Object.fromEntries(decrypted.map((p) => [p.Name, p.Value]));
      }
      this.paths.set(key, { value, versions, expires: this.now() + this.ttlMs });
      return value;
    });
  }

  /** Forgets `name` (a name, `name:selector` or a path given to `getByPath`), or everything: the next read asks the Parameter Store. */
  invalidate(name?: string): void {
    if (name === undefined) {
      this.names.clear();
      this.paths.clear();
      return;
    }
    this.names.delete(name);
    for (const key of [`r:${name}`, `o:${name}`]) this.paths.delete(key);
  }

  private async once<T>(key: string, read: () => Promise<T>): Promise<T> {
    const inFlight = this.pending.get(key);
    if (inFlight !== undefined) return inFlight as Promise<T>;
    const promise = read().finally(() => this.pending.delete(key));
    this.pending.set(key, promise);
    return promise;
  }

  private async getParameter(name: string, decrypt: boolean): Promise<WireParameter> {
    const answer = await this.call('GetParameter', { Name: name, WithDecryption: decrypt });
    return answer.Parameter as WireParameter;
  }

  private async listPath(path: string, recursive: boolean, decrypt: boolean): Promise<WireParameter[]> {
    const all: WireParameter[] = [];
    let token: string | undefined;
    do {
      const page = await this.call('GetParametersByPath', { Path: path, Recursive: recursive, WithDecryption: decrypt, ...(token === undefined ? {} : { NextToken: token }) });
      all.push(...page.Parameters as WireParameter[]);
      token = typeof page.NextToken === 'string' ? page.NextToken : undefined;
    } while (token !== undefined);
    return all;
  }

  private async call(operation: string, body: Record<string, unknown>): Promise<Record<string, unknown>> {
    this.signer ??= new SignatureV4({ credentials: this.credentials(), region: this.region(), service: 'ssm', sha256: NodeSha256, uriEscapePath: true });
    const text = JSON.stringify(body);
    const url = this.endpoint;
    const signed = await this.signer.sign({
      method: 'POST',
      protocol: url.protocol,
      hostname: url.hostname,
      port: url.port === '' ? undefined : Number(url.port),
      path: url.pathname,
      query: {},
      headers: { host: url.host, 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': `AmazonSSM.${operation}` },
      body: text,
    });
    const { host: _host, ...headers } = signed.headers;
    const response = await fetch(url, { method: 'POST', headers, body: text });
    const answer = await response.text();
    let parsed: Record<string, unknown>;
    try {
      parsed = JSON.parse(answer) as Record<string, unknown>;
    } catch {
      throw new ParameterStoreError(`HTTP ${response.status}`, `not an AWS response (${answer.slice(0, 200)})`, response.status);
    }
    if (!response.ok) {
      const type = String(parsed.__type ?? response.headers.get('x-amzn-errortype') ?? `HTTP ${response.status}`).replace(/^.*#/, '');
      throw new ParameterStoreError(type, String(parsed.message ?? parsed.Message ?? ''), response.status);
    }
    return parsed;
  }

  private region(): string {
    return this.options.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1';
  }

  private credentials(): () => Promise<ParameterCacheCredentials> {
    const given = this.options.credentials;
    if (typeof given === 'function') return given;
    if (given !== undefined) return () => Promise.resolve(given);
    return async () => {
      // Read at each signing: a Lambda environment's credentials are there from the start.
      const { AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: secretAccessKey, AWS_SESSION_TOKEN: sessionToken } = process.env;
      if (accessKeyId && secretAccessKey) return { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) };
      const { defaultProvider } = await import('@aws-sdk/credential-provider-node');
      return defaultProvider()();
    };
  }
}

let shared: ParameterCache | undefined;

/** The module's own cache, made at first use from the environment (a function's endpoint and credentials). */
function sharedCache(): ParameterCache {
  shared ??= new ParameterCache();
  return shared;
}

/** `ParameterCache.get` on the module's cache. */
export function get(name: string): Promise<string> {
  return sharedCache().get(name);
}

/** `ParameterCache.getByPath` on the module's cache. */
export function getByPath(path: string, options?: { recursive?: boolean }): Promise<Readonly<Record<string, string>>> {
  return sharedCache().getByPath(path, options);
}

/** `ParameterCache.invalidate` on the module's cache. */
export function invalidate(name?: string): void {
  shared?.invalidate(name);
}
