/**
 * @module cli/keys-command
 * `serverfull keys`: manage the keys file. `keys add NAME` gives a user a new access key
 * (creating the user, and the file, when needed) and prints it once, as `aws configure`
 * and `~/.aws/credentials` take it; `keys list` shows users and key ids, never secrets.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError } from '../config/config-error.js';
import { DEFAULT_SETTINGS } from '../config/settings.js';
import { generateAccessKey, KEYS_FILE_NAME, loadKeysFile, parseKeysFile, writeKeysFile } from '../auth/keys-file.js';
import { ADMIN_POLICY, INVOKE_POLICY, parsePolicy } from '../auth/policy.js';
import { isObject } from '../values.js';

/** Where the keys file is unless `--keys` or `SERVERFULL_KEYS` says otherwise: where `start --auth sigv4` looks for it. */
export const DEFAULT_KEYS_FILE = `${DEFAULT_SETTINGS.dataDir}/${KEYS_FILE_NAME}`;

/** Help text of `serverfull keys`. */
export const KEYS_HELP = `Usage: serverfull keys add NAME [--policy admin|invoke|FILE] [--keys PATH]
       serverfull keys list [--keys PATH]

add    gives user NAME a new access key (creating the user and the keys file if needed)
       and prints it once, as a credentials profile for ~/.aws/credentials.
list   prints each user with its access key ids (never the secrets).

Options:
  --policy P      the user's IAM policy: admin (lambda:* and logs:* on *), invoke (lambda:InvokeFunction
                  on *), or a JSON policy file; a new user gets invoke unless told, an
                  existing one keeps its policy unless told
  --keys PATH     the keys file (default $SERVERFULL_KEYS, else keys.json in $SERVERFULL_DATA_DIR, else ${DEFAULT_KEYS_FILE});
                  written with mode 0600, refused if group or others can access it
  -h, --help      this text
`;

/** Runs `serverfull keys`; returns the exit code. */
export async function keysCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      policy: { type: 'string' },
      keys: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(KEYS_HELP);
    return 0;
  }
  const dataDir = process.env.SERVERFULL_DATA_DIR;
  const path = values.keys ?? process.env.SERVERFULL_KEYS ?? (dataDir ? join(dataDir, KEYS_FILE_NAME) : DEFAULT_KEYS_FILE);
  const [action, name, ...extra] = positionals;
  if (extra.length > 0) throw new ConfigError(`keys: unexpected argument "${extra[0]}" (see serverfull keys --help)`);
  switch (action) {
    case 'add':
      if (name === undefined) throw new ConfigError('keys add needs a user NAME (see serverfull keys --help)');
      return addKey(path, name, values.policy);
    case 'list':
      if (name !== undefined) throw new ConfigError(`keys list takes no NAME (got "${name}")`);
      return listKeys(path);
    default:
      throw new ConfigError(`keys needs "add" or "list" (got ${action === undefined ? 'nothing' : `"${action}"`}; see serverfull keys --help)`);
  }
}

function addKey(path: string, name: string, policyOption: string | undefined): number {
  const document = existsSync(path) ? readDocument(path) : { users: {} };
  const users = (document.users ?? {}) as Record<string, { accessKeys?: unknown[]; policy?: unknown }>;
  const existing = users[name];
  const policy = policyOption !== undefined ? policyFrom(policyOption) : existing?.policy ?? INVOKE_POLICY;
  const key = generateAccessKey();
  users[name] = { ...existing, accessKeys: [...(existing?.accessKeys ?? []), key], policy };
  const updated = { ...document, users };
  // The whole file is validated as the server will load it, before anything is written.
  parseKeysFile(updated, `keys file ${path}`);
  if (!existsSync(path)) mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  writeKeysFile(path, updated);
  process.stdout.write(`[${name}]\naws_access_key_id = ${key.accessKeyId}\naws_secret_access_key = ${key.secretAccessKey}\n`);
  process.stderr.write(`${existing ? 'Added a key to' : 'Created'} user ${name} in ${path} (mode 0600). The secret is shown only this once.\n`);
  return 0;
}

function listKeys(path: string): number {
  if (!existsSync(path)) throw new ConfigError(`keys file ${path} does not exist (create it with serverfull keys add NAME)`);
  const keys = loadKeysFile(path);
  for (const user of keys.users.values()) {
    process.stdout.write(`${user.name}\t${user.accessKeys.map((k) => k.accessKeyId).join(',') || '(no keys)'}\n`);
  }
  return 0;
}

/** The file's JSON, after the same checks the server makes (mode, shape), so a bad file is never rewritten. */
function readDocument(path: string): Record<string, unknown> {
  loadKeysFile(path);
  const document: unknown = JSON.parse(readFileSync(path, 'utf8'));
  if (!isObject(document)) throw new ConfigError(`keys file ${path} must hold a JSON object`);
  return document;
}

function policyFrom(option: string): unknown {
  if (option === 'admin') return ADMIN_POLICY;
  if (option === 'invoke') return INVOKE_POLICY;
  let policy: unknown;
  try {
    policy = JSON.parse(readFileSync(option, 'utf8'));
  } catch (error) {
    throw new ConfigError(`--policy ${option}: not admin, invoke, or a readable JSON policy file (${(error as Error).message})`);
  }
  parsePolicy(policy, `--policy ${option}`);
  return policy;
}
