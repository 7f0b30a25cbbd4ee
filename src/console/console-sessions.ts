/**
 * @module console/console-sessions
 * The web console's logins when auth is on: an access key and its secret, checked against the
 * keys file, become a random session token in an HttpOnly, SameSite=Strict cookie. Sessions live
 * in memory with an expiry; each request resolves the user again, so a key removed from the
 * keys file ends its sessions, and the user's policy is always the current one.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { KeysFile } from '../auth/keys-file.js';
import { userArn, type Principal } from '../auth/principal.js';

/** The session cookie's name. */
export const SESSION_COOKIE = 'serverfull_console';
/** How long a session lasts from its login. */
const SESSION_MS = 12 * 3600 * 1000;
/** Sessions kept at once: the oldest goes first. */
const MAX_SESSIONS = 1000;
/** Failed logins from one address before it must wait. */
const MAX_FAILURES = 5;
/** How long an address that failed too often waits, and how long its failures are remembered. */
const FAILURE_WINDOW_MS = 60_000;
/** Addresses whose failures are remembered at once. */
const MAX_FAILING_ADDRESSES = 10_000;

interface Session {
  readonly accessKeyId: string;
  readonly expires: number;
}

/** The outcome of a login attempt. */
export type LoginResult = { readonly token: string; readonly principal: Principal } | 'invalid' | 'tooManyFailures';

/** The console's sessions over one keys file. */
export class ConsoleSessions {
  private readonly sessions = new Map<string, Session>();
  private readonly failures = new Map<string, { count: number; since: number }>();

  constructor(
    private readonly keys: () => KeysFile,
    private readonly accountId: string,
    private readonly now: () => number = Date.now,
  ) {}

  /** Checks the key and secret; on success starts a session. `address` is the client's, for the failure limit. */
  login(accessKeyId: string, secretAccessKey: string, address: string): LoginResult {
    const now = this.now();
    const failed = this.failures.get(address);
    if (failed && now - failed.since > FAILURE_WINDOW_MS) this.failures.delete(address);
    else if (failed && failed.count >= MAX_FAILURES) return 'tooManyFailures';
    const found = this.keys().userByAccessKey(accessKeyId);
    // Hashes make the comparison constant-time whatever the lengths; an unknown key compares too.
    const given = createHash('sha256').update(secretAccessKey).digest();
    const expected = createHash('sha256').update(found?.secretAccessKey ?? randomBytes(32)).digest();
    if (!timingSafeEqual(given, expected) || found === undefined) {
      this.noteFailure(address, now);
      return 'invalid';
    }
    this.failures.delete(address);
    for (const [token, session] of this.sessions) if (session.expires <= now) this.sessions.delete(token);
    if (this.sessions.size >= MAX_SESSIONS) this.sessions.delete(this.sessions.keys().next().value!);
    const token = randomBytes(32).toString('base64url');
    this.sessions.set(token, { accessKeyId, expires: now + SESSION_MS });
    return { token, principal: this.principalOf(accessKeyId)! };
  }

  /** The user of a live session, as a principal with the keys file's current policy; undefined otherwise. */
  principal(token: string | undefined): Principal | undefined {
    if (token === undefined) return undefined;
    const session = this.sessions.get(token);
    if (!session) return undefined;
    if (session.expires <= this.now()) {
      this.sessions.delete(token);
      return undefined;
    }
    const principal = this.principalOf(session.accessKeyId);
    if (!principal) this.sessions.delete(token);
    return principal;
  }

  /** Ends a session. */
  logout(token: string | undefined): void {
    if (token !== undefined) this.sessions.delete(token);
  }

  /** Seconds a new session lasts, for the cookie's Max-Age. */
  get maxAgeSeconds(): number {
    return SESSION_MS / 1000;
  }

  private principalOf(accessKeyId: string): Principal | undefined {
    const found = this.keys().userByAccessKey(accessKeyId);
    if (!found) return undefined;
    const { user } = found;
    return { kind: 'user', name: user.name, accessKeyId, arn: userArn(this.accountId, user.name), policy: user.policy };
  }

  private noteFailure(address: string, now: number): void {
    const failed = this.failures.get(address);
    if (failed) failed.count++;
    else {
      if (this.failures.size >= MAX_FAILING_ADDRESSES) this.failures.delete(this.failures.keys().next().value!);
      this.failures.set(address, { count: 1, since: now });
    }
  }
}

/** The session token in a `Cookie` header, if any. */
export function sessionTokenOf(cookieHeader: string | undefined): string | undefined {
  if (!cookieHeader) return undefined;
  for (const part of cookieHeader.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === SESSION_COOKIE) return part.slice(eq + 1).trim();
  }
  return undefined;
}
