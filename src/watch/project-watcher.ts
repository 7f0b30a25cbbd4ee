/**
 * @module watch/project-watcher
 * Watches project folders for changed files and reports them in batches: a burst of events
 * (an editor's save, a `git checkout`) is one batch. `node_modules`, dot folders and files, and
 * the data directory are ignored. Each folder is watched on its own (`fs.watch`, not recursive)
 * so that ignored trees, `node_modules` first, cost no watch at all; new folders are added as they appear.
 */
import { watch, statSync, readdirSync, type Dirent, type FSWatcher } from 'node:fs';
import { join, sep } from 'node:path';

/** Milliseconds without a new event before a batch is reported. */
const QUIET_MS = 40;

/** Most folders watched: a project this large is a mistake (a home folder given as root). */
const MAX_FOLDERS = 10_000;

/** How the watcher is set up. */
export interface ProjectWatcherOptions {
  /** Absolute folders to watch, with everything under them. */
  readonly folders: readonly string[];
  /** Absolute folders never watched, such as the data directory. */
  readonly ignored: readonly string[];
  /** Receives each batch of changed absolute paths (files, or folders that appeared or went). */
  readonly changed: (paths: ReadonlySet<string>) => void;
  /** Told when a folder cannot be watched. */
  readonly failed: (folder: string, error: Error) => void;
}

/** A running watch over project folders. */
export class ProjectWatcher {
  private readonly watchers = new Map<string, FSWatcher>();
  private pending = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  /** `MAX_FOLDERS` was reached (and said). */
  private full = false;

  constructor(private readonly options: ProjectWatcherOptions) {
    for (const folder of options.folders) this.add(folder);
  }

  /** Watches one more folder, with everything under it (nothing when it is watched already or ignored). */
  include(folder: string): void {
    if (!this.ignoredPath(folder)) this.add(folder);
  }

  /** Stops watching; no batch is reported after this. */
  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    for (const watcher of this.watchers.values()) watcher.close();
    this.watchers.clear();
  }

  private ignoredPath(path: string): boolean {
    const name = path.slice(path.lastIndexOf(sep) + 1);
    if (name.startsWith('.') || name === 'node_modules') return true;
    return this.options.ignored.some((folder) => path === folder || path.startsWith(folder + sep));
  }

  /**
   * Watches `folder` and the folders under it that are not ignored. A folder that appears while watched may
   * already hold files (a `git checkout`, `mkdir -p` then a write): `appeared` reports them as changed.
   */
  private add(folder: string, appeared = false): void {
    if (this.closed || this.watchers.has(folder)) return;
    if (this.watchers.size >= MAX_FOLDERS) {
      if (!this.full) this.options.failed(folder, new Error(`more than ${MAX_FOLDERS} folders to watch: this one and any later are not watched`));
      this.full = true;
      return;
    }
    let watcher: FSWatcher;
    try {
      watcher = watch(folder, { persistent: false }, (_event, name) => this.event(folder, name));
    } catch (error) {
      this.options.failed(folder, error as Error);
      return;
    }
    watcher.on('error', () => {
      // The folder went away (or became unreadable): its parent reports the change.
      watcher.close();
      this.watchers.delete(folder);
    });
    this.watchers.set(folder, watcher);
    let entries: Dirent[] = [];
    try {
      entries = readdirSync(folder, { withFileTypes: true });
    } catch {
      // Gone meanwhile.
    }
    for (const entry of entries) {
      const child = join(folder, entry.name);
      if (this.ignoredPath(child)) continue;
      if (entry.isDirectory()) this.add(child, appeared);
      else if (appeared) this.pending.add(child);
    }
  }

  private event(folder: string, name: string | Buffer | null): void {
    if (this.closed) return;
    // Without a name (some platforms, some events), the folder itself stands for what changed in it.
    const path = name === null ? folder : join(folder, name.toString());
    if (this.ignoredPath(path)) return;
    if (!this.watchers.has(path) && isFolder(path)) this.add(path, true);
    this.pending.add(path);
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.flush(), QUIET_MS).unref();
  }

  private flush(): void {
    const batch = this.pending;
    this.pending = new Set();
    if (!this.closed && batch.size > 0) this.options.changed(batch);
  }
}

function isFolder(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
