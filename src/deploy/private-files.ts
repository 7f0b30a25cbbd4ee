/**
 * @module deploy/private-files
 * The data directory is its owner's alone: folders 0700, files 0600, set by explicit modes when
 * they are created (never by changing the process's umask) and tightened when an older data
 * directory is opened.
 */
import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { ConfigError } from '../config/config-error.js';

export const PRIVATE_DIRECTORY = 0o700;
export const PRIVATE_FILE = 0o600;

/** Creates `directory` (and missing parents) 0700, or tightens it to 0700 when it exists. */
export function privateDirectory(directory: string): void {
  try {
    mkdirSync(directory, { recursive: true, mode: PRIVATE_DIRECTORY });
    chmodSync(directory, PRIVATE_DIRECTORY);
  } catch (error) {
    throw new ConfigError(`cannot create the data directory ${directory}, readable by its owner only (0700): ${(error as Error).message}`);
  }
}

/** Creates `file` empty and 0600 when missing; tightens it to 0600 when it exists. */
export function privateFile(file: string): void {
  closeSync(openSync(file, 'a', PRIVATE_FILE));
  chmodSync(file, PRIVATE_FILE);
}

/** Tightens `file` to 0600 when it exists. */
export function tightenFile(file: string): void {
  if (existsSync(file)) chmodSync(file, PRIVATE_FILE);
}
