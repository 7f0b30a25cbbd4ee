/**
 * @module auth/session-issuer
 * Temporary credentials for function roles, as Lambda hands each execution environment
 * `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` / `AWS_SESSION_TOKEN`.
 *
 * Stateless: the session token carries the role, session name and expiry under an HMAC of
 * the issuer's key, and the secret is derived from the access key id with the same key. So
 * nothing is stored per session, nothing grows, and any server holding the key can verify.
 * The role's policy is looked up when a request arrives, so a policy change applies at once.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { TemporaryCredentials } from '../handler/function-access.js';
import { randomKeyString } from './keys-file.js';

/** Credentials as the AWS SDKs take them from the environment, with the moment they stop working. */
export interface IssuedCredentials extends TemporaryCredentials {
  readonly expiration: Date;
}

/** What a valid session token says. */
export interface Session {
  readonly role: string;
  readonly sessionName: string;
  readonly secretAccessKey: string;
  readonly expiration: Date;
}

/** The outcome of resolving an `ASIA` key with its token. */
export type SessionLookup = { readonly kind: 'valid'; readonly session: Session } | { readonly kind: 'invalid' } | { readonly kind: 'expired' };

/** How long issued credentials last unless told otherwise: 12 hours, the longest an AWS role session lasts. */
export const DEFAULT_SESSION_SECONDS = 12 * 3600;
/** STS wants 2 to 64 characters; one is allowed too, so a one-letter function name can be a session's name. */
const SESSION_NAME = /^[\w+=,.@-]{1,64}$/;
const KEY_ID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** Mints and checks temporary credentials with one secret key. */
export class SessionIssuer {
  readonly #key: Buffer;
  readonly #now: () => number;

  /** `key`: 32 random bytes unless given (given, tokens survive a restart); `now`: the clock, for tests. */
  constructor(options: { key?: Buffer; now?: () => number } = {}) {
    this.#key = options.key ?? randomBytes(32);
    if (this.#key.length < 32) throw new Error('the session key must be at least 32 bytes');
    this.#now = options.now ?? Date.now;
  }

  /** New credentials for `role`, named `sessionName` (e.g. the function name), valid `seconds`. */
  issue(role: string, sessionName: string, seconds = DEFAULT_SESSION_SECONDS): IssuedCredentials {
    if (!SESSION_NAME.test(sessionName)) throw new Error(`invalid session name ${JSON.stringify(sessionName)}: 1 to 64 of letters, digits, +=,.@_-`);
    const accessKeyId = randomKeyString('ASIA', 20, KEY_ID_ALPHABET);
    const expires = Math.floor(this.#now() / 1000) + seconds;
    const payload = Buffer.from(JSON.stringify({ k: accessKeyId, r: role, s: sessionName, e: expires })).toString('base64url');
    return {
      accessKeyId,
      secretAccessKey: this.#secretOf(accessKeyId),
      sessionToken: `${payload}.${this.#mac('token', payload).toString('base64url')}`,
      expiration: new Date(expires * 1000),
    };
  }

  /** The session behind an `ASIA` key and its token; `invalid` for anything this issuer did not mint. */
  resolve(accessKeyId: string, sessionToken: string | undefined): SessionLookup {
    const invalid = { kind: 'invalid' } as const;
    if (sessionToken === undefined) return invalid;
    const dot = sessionToken.indexOf('.');
    if (dot <= 0) return invalid;
    const payload = sessionToken.slice(0, dot);
    const given = Buffer.from(sessionToken.slice(dot + 1), 'base64url');
    const expected = this.#mac('token', payload);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return invalid;
    let claims: { k?: unknown; r?: unknown; s?: unknown; e?: unknown };
    try {
      claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    } catch {
      return invalid;
    }
    // The token is bound to its key: another key's token does not vouch for this one.
    if (claims.k !== accessKeyId || typeof claims.r !== 'string' || typeof claims.s !== 'string' || typeof claims.e !== 'number') return invalid;
    if (this.#now() >= claims.e * 1000) return { kind: 'expired' };
    return {
      kind: 'valid',
      session: { role: claims.r, sessionName: claims.s, secretAccessKey: this.#secretOf(accessKeyId), expiration: new Date(claims.e * 1000) },
    };
  }

  /**
   * The access key id a session token was minted with (the token names it), for callers that hold only
   * the token (the Parameters and Secrets extension's `X-Aws-Parameters-Secrets-Token`); check it with `resolve`.
   */
  accessKeyIdOf(sessionToken: string): string | undefined {
    const dot = sessionToken.indexOf('.');
    if (dot <= 0) return undefined;
    try {
      const claims = JSON.parse(Buffer.from(sessionToken.slice(0, dot), 'base64url').toString('utf8')) as { k?: unknown };
      return typeof claims.k === 'string' ? claims.k : undefined;
    } catch {
      return undefined;
    }
  }

  #secretOf(accessKeyId: string): string {
    return this.#mac('secret', accessKeyId).toString('base64').slice(0, 40);
  }

  /** Domain-separated HMAC: a token's MAC can never serve as a secret, nor the reverse. */
  #mac(purpose: string, data: string): Buffer {
    return createHmac('sha256', this.#key).update(`${purpose}\u0000${data}`).digest();
  }
}
