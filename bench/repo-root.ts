/**
 * @module bench/repo-root
 * The repository folder, found from the compiled file's location so the benchmark works from any cwd.
 */
import { fileURLToPath } from 'node:url';

/** Absolute path of the repository: dist/bench/*.js sits two folders below it. */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
