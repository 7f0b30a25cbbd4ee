/**
 * @module auth/sigv4-verifier
 * Checks an AWS Signature Version 4 on a request, in both forms clients use: the
 * `Authorization` header and the presigned query string (`X-Amz-Signature=...`).
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html
 *
 * The canonical request is rebuilt from the request exactly as received (raw path, raw query,
 * raw header values of the headers the client says it signed) and signed again with
 * `@smithy/signature-v4`, the AWS SDK's own signer, so both sides canonicalize alike.
 * Where serverfull differs from AWS:
 * - any region in the credential scope is accepted (the server answers for one region,
 *   but a client configured for another still reaches it);
 * - only `X-Amz-Date` dates a request (AWS also takes `Date`; the SDKs send `X-Amz-Date`);
 * - `UNSIGNED-PAYLOAD` is refused: the body is always covered by the signature.
 * The service of the credential scope is the one the request is for: `lambda`, or `logs` for the
 * CloudWatch Logs API; a signature for one service is refused by the other, as in AWS.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { ALGORITHM_IDENTIFIER, SignatureV4 } from '@smithy/signature-v4';
import { AwsError, missingAuthenticationToken, signatureMismatch } from '../errors.js';
import { NodeSha256 } from './node-sha256.js';
import type { Principal } from './principal.js';

/** A request as the verifier needs it: nothing parsed or normalized beyond splitting the URL. */
export interface SignedRequest {
  readonly method: string;
  /** The path as received, still percent-encoded, without the query. */
  readonly path: string;
  /** The query string as received, without `?` (empty when none). */
  readonly query: string;
  /** `IncomingMessage.rawHeaders`: names and values as sent, repeated headers kept apart. */
  readonly rawHeaders: readonly string[];
  /** The whole body, already read. */
  readonly body: Buffer;
}

/** Finds the secret and principal behind an access key; an `AwsError` for an unknown key or a bad session token. */
export type CredentialResolver = (accessKeyId: string, sessionToken: string | undefined) => { secretAccessKey: string; principal: Principal } | AwsError;

/** How far a request's date may be from the server's clock: AWS's 5 minutes. */
export const MAX_CLOCK_SKEW_MS = 5 * 60 * 1000;
/** The longest a presigned URL may be valid: 7 days, as in AWS. */
export const MAX_PRESIGNED_EXPIRES = 7 * 24 * 3600;
/** The signing name of the Lambda APIs, the default service. */
export const LAMBDA_SERVICE = 'lambda';
const AMZ_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;
const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

/** The `SignedRequest` of a Node.js request: with its body once read, without it for `prepareSignature`. */
export function signedRequestOf(request: IncomingMessage): Omit<SignedRequest, 'body'>;
export function signedRequestOf(request: IncomingMessage, body: Buffer): SignedRequest;
export function signedRequestOf(request: IncomingMessage, body?: Buffer): Omit<SignedRequest, 'body'> | SignedRequest {
  const url = request.url ?? '/';
  const queryStart = url.indexOf('?');
  return {
    method: request.method ?? 'GET',
    path: queryStart === -1 ? url : url.slice(0, queryStart),
    query: queryStart === -1 ? '' : url.slice(queryStart + 1),
    rawHeaders: request.rawHeaders,
    ...(body === undefined ? {} : { body }),
  };
}

/** The signature parts, from the header or the query. */
interface SignatureParts {
  readonly presigned: boolean;
  readonly credential: string;
  readonly signedHeaders: string;
  readonly signature: string;
  readonly amzDate: string | undefined;
  readonly expires?: string;
  readonly sessionToken: string | undefined;
}

/** A request whose signature is well-formed, current and by a known key: all that is left is to compare it. */
export interface PreparedSignature {
  readonly request: Omit<SignedRequest, 'body'>;
  /** Who the request claims to be: not authenticated until `completeSignature` says so. */
  readonly claimedPrincipal: Principal;
  /** Secret material stays inside the module: this is opaque to callers. */
  readonly [CHECK]: (body: Buffer) => Promise<boolean>;
}

const CHECK = Symbol('check');

/**
 * Every check that needs no body: a signature is present and whole, its scope and date are
 * right, and its key is known. A pipeline runs it before reading a body, so an unauthenticated
 * client cannot make the server read (and hash) a 70 MB upload.
 */
export function prepareSignature(
  request: Omit<SignedRequest, 'body'>, resolve: CredentialResolver, now: number = Date.now(), service: string = LAMBDA_SERVICE,
): PreparedSignature | AwsError {
  const headers = headerValues(request.rawHeaders);
  const query = parseQuery(request.query);
  const parts = signatureParts(headers, query);
  if (parts instanceof AwsError) return parts;

  const credential = parts.credential.split('/');
  if (credential.length !== 5 || credential.some((part) => part === '')) {
    return incomplete(`Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '${parts.credential}'`);
  }
  const [accessKeyId, scopeDate, region, scopeService, terminator] = credential as [string, string, string, string, string];
  if (parts.amzDate === undefined) {
    return incomplete(parts.presigned ? "AWS query-string parameters must include 'X-Amz-Date'." : "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.");
  }
  const amzDate = parts.amzDate;
  const signingDate = parseAmzDate(amzDate);
  if (signingDate === undefined) return incomplete(`X-Amz-Date must be in the ISO8601 Long Format "yyyyMMdd'T'HHmmss'Z'", got '${amzDate}'`);
  if (terminator !== 'aws4_request') return invalid(`Credential should be scoped with a valid terminator: 'aws4_request', not '${terminator}'.`);
  if (scopeService !== service) return invalid(`Credential should be scoped to correct service: '${service}'. `);
  if (scopeDate !== amzDate.slice(0, 8)) {
    return invalid(`Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${scopeDate}' != '${amzDate.slice(0, 8)}', from '${amzDate}'.`);
  }
  const timeError = checkTime(parts, signingDate.getTime(), now);
  if (timeError) return timeError;

  const signedHeaders = parts.signedHeaders.split(';');
  if (!signedHeaders.includes('host')) return invalid("'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.");

  const found = resolve(accessKeyId, parts.sessionToken);
  if (found instanceof AwsError) return found;

  const check = async (body: Buffer): Promise<boolean> => {
    // AWS hashes the body it received; a signed x-amz-content-sha256 that disagrees is a forgery
    // attempt (the signer would otherwise trust the header and a tampered body would pass).
    const bodyHash = body.length === 0 ? EMPTY_SHA256 : createHash('sha256').update(body).digest('hex');
    const declaredHash = headers.get('x-amz-content-sha256');
    if (declaredHash !== undefined && (declaredHash.length > 1 || declaredHash[0]!.trim() !== bodyHash)) return false;

    const canonicalHeaders: Record<string, string> = {};
    for (const name of signedHeaders) {
      const values = headers.get(name);
      // A header the client claims to have signed but did not send cannot match.
      if (values === undefined) return false;
      canonicalHeaders[name] = values.map((value) => value.trim().replace(/\s+/g, ' ')).join(',');
    }
    const calculator = new SignatureCalculator(accessKeyId, found.secretAccessKey, region, service);
    const expected = await calculator.signatureOf(
      { method: request.method, path: request.path, query: canonicalQueryInput(query) },
      canonicalHeaders,
      bodyHash,
      amzDate,
      `${scopeDate}/${region}/${service}/aws4_request`,
      signingDate,
    );
    return sameSignature(expected, parts.signature);
  };
  return { request, claimedPrincipal: found.principal, [CHECK]: check };
}

/** Compares a prepared signature with the one computed over `body`: the principal, or AWS's mismatch error. */
export async function completeSignature(prepared: PreparedSignature, body: Buffer): Promise<Principal | AwsError> {
  return (await prepared[CHECK](body)) ? prepared.claimedPrincipal : signatureMismatch();
}

/**
 * Verifies the request's signature; resolves to the principal that signed it, or to the
 * `AwsError` AWS would answer. Never rejects for a bad request. `now` is the clock, for tests.
 */
export async function verifySignature(request: SignedRequest, resolve: CredentialResolver, now: number = Date.now(), service: string = LAMBDA_SERVICE): Promise<Principal | AwsError> {
  const prepared = prepareSignature(request, resolve, now, service);
  if (prepared instanceof AwsError) return prepared;
  return completeSignature(prepared, request.body);
}

/** The signature parts from the `Authorization` header, else from a presigned query; an error when neither is whole. */
function signatureParts(headers: ReadonlyMap<string, string[]>, query: ReadonlyArray<readonly [string, string]>): SignatureParts | AwsError {
  const authorization = headers.get('authorization')?.[0];
  const token = headers.get('x-amz-security-token')?.[0];
  if (authorization !== undefined) {
    const [algorithm, ...rest] = authorization.trim().split(/\s+/);
    if (algorithm !== ALGORITHM_IDENTIFIER) {
      return incomplete(`Authorization header requires '${ALGORITHM_IDENTIFIER}' as its algorithm. Authorization=${algorithm ?? ''}`);
    }
    const fields = new Map<string, string>();
    for (const part of rest.join(' ').split(',')) {
      const eq = part.indexOf('=');
      if (eq > 0) fields.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
    }
    const missing = ['Credential', 'Signature', 'SignedHeaders'].filter((name) => !fields.get(name));
    if (missing.length > 0) {
      return incomplete(`${missing.map((name) => `Authorization header requires '${name}' parameter.`).join(' ')} Authorization=${authorization.split(/\s*Signature=/)[0]}`);
    }
    return {
      presigned: false,
      credential: fields.get('Credential')!,
      signedHeaders: fields.get('SignedHeaders')!,
      signature: fields.get('Signature')!,
      amzDate: headers.get('x-amz-date')?.[0]?.trim(),
      sessionToken: token,
    };
  }
  const param = (name: string) => query.find(([key]) => key === name)?.[1];
  if (param('X-Amz-Signature') === undefined && param('X-Amz-Algorithm') === undefined && param('X-Amz-Credential') === undefined) {
    return missingAuthenticationToken();
  }
  if (param('X-Amz-Algorithm') !== ALGORITHM_IDENTIFIER) return incomplete(`X-Amz-Algorithm only supports "${ALGORITHM_IDENTIFIER}"`);
  const missing = ['X-Amz-Credential', 'X-Amz-Signature', 'X-Amz-SignedHeaders', 'X-Amz-Date', 'X-Amz-Expires'].filter((name) => !param(name));
  if (missing.length > 0) return incomplete(`AWS query-string parameters must include ${missing.map((name) => `'${name}'`).join(', ')}. Re-examine the query-string parameters.`);
  return {
    presigned: true,
    credential: param('X-Amz-Credential')!,
    signedHeaders: param('X-Amz-SignedHeaders')!,
    signature: param('X-Amz-Signature')!,
    amzDate: param('X-Amz-Date'),
    expires: param('X-Amz-Expires'),
    sessionToken: param('X-Amz-Security-Token') ?? token,
  };
}

/** AWS's clock checks: 5 minutes either way for a header, the `X-Amz-Expires` window for a presigned URL. */
function checkTime(parts: SignatureParts, signedAt: number, now: number): AwsError | undefined {
  if (signedAt > now + MAX_CLOCK_SKEW_MS) {
    return invalid(`Signature not yet current: ${parts.amzDate} is still later than ${amzDate(now + MAX_CLOCK_SKEW_MS)} (${amzDate(now)} + 5 min.)`);
  }
  if (!parts.presigned) {
    if (signedAt < now - MAX_CLOCK_SKEW_MS) {
      return invalid(`Signature expired: ${parts.amzDate} is now earlier than ${amzDate(now - MAX_CLOCK_SKEW_MS)} (${amzDate(now)} - 5 min.)`);
    }
    return undefined;
  }
  const expires = Number(parts.expires);
  if (!/^\d+$/.test(parts.expires ?? '') || expires < 1 || expires > MAX_PRESIGNED_EXPIRES) {
    return incomplete(`X-Amz-Expires must be an integer from 1 to ${MAX_PRESIGNED_EXPIRES} (seconds), got '${parts.expires}'`);
  }
  if (now > signedAt + expires * 1000) {
    return invalid(`Signature expired: ${parts.amzDate} is now earlier than ${amzDate(now - expires * 1000)} (${amzDate(now)} - ${expires} sec.)`);
  }
  return undefined;
}

/** Header values by lower-case name, each occurrence kept apart and in order, as the client sent them. */
function headerValues(raw: readonly string[]): Map<string, string[]> {
  const headers = new Map<string, string[]>();
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    const list = headers.get(name);
    if (list) list.push(raw[i + 1]!);
    else headers.set(name, [raw[i + 1]!]);
  }
  return headers;
}

/** Decoded query pairs in order; an undecodable escape is kept as sent (it will not match, which is the right answer). */
function parseQuery(query: string): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  for (const part of query.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const key = eq === -1 ? part : part.slice(0, eq);
    const value = eq === -1 ? '' : part.slice(eq + 1);
    pairs.push([decode(key), decode(value)]);
  }
  return pairs;
}

function decode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** The query in the shape the signer canonicalizes: repeated keys become lists. */
function canonicalQueryInput(pairs: ReadonlyArray<readonly [string, string]>): Record<string, string | string[]> {
  const query: Record<string, string | string[]> = Object.create(null);
  for (const [key, value] of pairs) {
    const existing = query[key];
    if (existing === undefined) query[key] = value;
    else if (Array.isArray(existing)) existing.push(value);
    else query[key] = [existing, value];
  }
  return query;
}

function parseAmzDate(text: string): Date | undefined {
  const m = AMZ_DATE.exec(text);
  if (!m) return undefined;
  const date = new Date(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!));
  return Number.isNaN(date.getTime()) || amzDate(date.getTime()) !== text ? undefined : date;
}

/** A time in SigV4's compact form, `20260101T120000Z`. */
function amzDate(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z').replace(/[-:]/g, '');
}

/** Constant-time comparison of two hex signatures, so timing tells nothing of the expected one. */
function sameSignature(expected: string, given: string): boolean {
  const a = Buffer.from(expected, 'utf8');
  const b = Buffer.from(given, 'utf8');
  // The expected length is public (64 hex digits): comparing lengths first leaks nothing.
  return a.length === b.length && timingSafeEqual(a, b);
}

function incomplete(message: string): AwsError {
  return new AwsError('IncompleteSignatureException', message);
}

function invalid(message: string): AwsError {
  return new AwsError('InvalidSignatureException', message);
}


/**
 * The AWS SDK's signer, given exactly the canonical headers and payload hash to use: its
 * `sign(request)` would pick headers and trust `x-amz-content-sha256` by itself.
 */
class SignatureCalculator extends SignatureV4 {
  constructor(accessKeyId: string, secretAccessKey: string, region: string, private readonly signingService: string) {
    super({ credentials: { accessKeyId, secretAccessKey }, region, service: signingService, sha256: NodeSha256, applyChecksum: false, uriEscapePath: true });
  }

  /** The hex signature of the request as canonicalized from these parts. */
  async signatureOf(
    request: { method: string; path: string; query: Record<string, string | string[]> },
    canonicalHeaders: Record<string, string>,
    payloadHash: string,
    longDate: string,
    scope: string,
    signingDate: Date,
  ): Promise<string> {
    const httpRequest = { ...request, protocol: 'http:', hostname: '', headers: canonicalHeaders };
    const canonicalRequest = this.createCanonicalRequest(httpRequest, canonicalHeaders, payloadHash);
    const stringToSign = await this.createStringToSign(longDate, scope, canonicalRequest, ALGORITHM_IDENTIFIER);
    const region = scope.split('/')[1]!;
    return this.sign(stringToSign, { signingDate, signingRegion: region, signingService: this.signingService });
  }
}
