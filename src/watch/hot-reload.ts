/**
 * @module watch/hot-reload
 * `--watch`: reloads declared functions when their code, the manifest or the template changes.
 * A function whose files (its import graph) or declaration changed gets a new definition object,
 * which retires its old environments (invocations in flight finish on them) and gives the next
 * invocation new ones with the new code; every other function keeps its definition object and so
 * its warm environments. A manifest or template that no longer validates changes nothing: the
 * last good configuration stays, and the log says why.
 */
import { dirname, resolve, sep } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { ConfigError } from '../config/config-error.js';
import type { Settings } from '../config/settings.js';
import { loadDefinitions, type DeclarationOptions, type DeclaredFunctions } from '../declared-functions.js';
import type { Logger } from '../log.js';
import type { FunctionDefinition } from '../registry/function-definition.js';
import { belongsTo, functionFiles, type FunctionFiles } from './import-graph.js';
import { ProjectWatcher } from './project-watcher.js';

/** How hot reload is set up. */
export interface HotReloadOptions {
  /** What the server was started from: read again when the manifest or the template changes. */
  readonly declaration: DeclarationOptions;
  /** The declaration as the server serves it now. */
  readonly current: DeclaredFunctions;
  /** The data directory, never watched. */
  readonly dataDir: string;
  readonly logger: Logger;
  /** Serves `next` from now on; throws `ConfigError` when it cannot, and then must change nothing. */
  readonly apply: (next: DeclaredFunctions) => void;
}

/** Settings that reach functions through their definitions: they take effect at a reload. The others need a restart. */
const RELOADED_SETTINGS: ReadonlySet<keyof Settings> = new Set(['isolation', 'mock']);

/** Watches the project of a running server and reloads what changed. */
export class HotReload {
  private current: DeclaredFunctions;
  private readonly files = new Map<string, FunctionFiles>();
  private readonly declarationFiles: ReadonlySet<string>;
  private watcher: ProjectWatcher | undefined;
  private queued = new Set<string>();
  private running: Promise<void> | undefined;
  private closed = false;

  private constructor(private readonly options: HotReloadOptions) {
    this.current = options.current;
    const { config, template } = options.declaration;
    this.declarationFiles = new Set([config, template].filter((path) => path !== undefined).map((path) => resolve(path)));
  }

  /** Learns every declared function's files, then starts watching. */
  static async start(options: HotReloadOptions): Promise<HotReload> {
    const reload = new HotReload(options);
    await Promise.all(options.current.definitions.map((definition) => reload.learn(definition)));
    reload.watch();
    return reload;
  }

  /** Stops watching; a reload under way finishes. */
  async close(): Promise<void> {
    this.closed = true;
    this.watcher?.close();
    await this.running;
  }

  private watch(): void {
    const folders = new Set([...this.declarationFiles].map((file) => dirname(file)));
    for (const definition of this.current.definitions) if (typeof definition.handler === 'string') folders.add(definition.root);
    // A folder inside another is watched as part of it.
    const outermost = [...folders].filter((folder) => ![...folders].some((other) => other !== folder && folder.startsWith(other.endsWith(sep) ? other : other + sep)));
    const { logger } = this.options;
    this.watcher = new ProjectWatcher({
      folders: outermost,
      ignored: [resolve(this.options.dataDir)],
      changed: (paths) => this.changed(paths),
      failed: (folder, error) => logger.log('warn', `hot reload cannot watch ${folder}: ${error.message}`, { folder }),
    });
    if (outermost.length === 0) logger.log('warn', 'hot reload has nothing to watch: no manifest, no template and no declared function with a handler file');
    else logger.log('info', 'hot reload: watching for changes', { folders: outermost.join(',') });
  }

  private changed(paths: ReadonlySet<string>): void {
    for (const path of paths) this.queued.add(path);
    this.running ??= this.drain().finally(() => {
      this.running = undefined;
    });
  }

  /** Reloads batch after batch, one at a time, until no change is left. */
  private async drain(): Promise<void> {
    while (this.queued.size > 0 && !this.closed) {
      const batch = this.queued;
      this.queued = new Set();
      try {
        await this.reload(batch);
      } catch (error) {
        this.options.logger.log('error', `hot reload failed: ${(error as Error)?.stack ?? String(error)}`);
      }
    }
  }

  private async reload(paths: ReadonlySet<string>): Promise<void> {
    const { logger } = this.options;
    const previous = this.current;
    let next = previous;
    if ([...paths].some((path) => this.declarationFiles.has(path))) {
      try {
        next = loadDefinitions(this.options.declaration);
      } catch (error) {
        if (!(error instanceof ConfigError)) throw error;
        logger.log('warn', `the declaration no longer validates; keeping the last good configuration: ${error.message}`);
      }
    }
    const codeChanged = new Set(previous.definitions.filter((d) => this.touches(d.name, paths)).map((d) => d.name));
    const before = new Map(previous.definitions.map((definition) => [definition.name, definition]));
    const definitions = next.definitions.map((definition) => {
      const old = before.get(definition.name);
      if (old === undefined) return definition;
      if (!codeChanged.has(definition.name) && (old === definition || isDeepStrictEqual(old, definition))) return old;
      // A new object is what tells the runtime the function changed.
      return old === definition ? Object.freeze({ ...definition }) : definition;
    });
    const reloaded = definitions.filter((definition) => before.get(definition.name) !== definition);
    const removed = previous.definitions.filter((definition) => !definitions.some((d) => d.name === definition.name));
    if (next !== previous) this.noteSettings(previous.settings, next.settings);
    // A new declaration is applied even when no function changed: its routes may have.
    if (reloaded.length === 0 && removed.length === 0 && next === previous) return;
    const candidate = { ...next, definitions };
    try {
      this.options.apply(candidate);
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      logger.log('warn', `the declaration no longer validates; keeping the last good configuration: ${error.message}`);
      return;
    }
    this.current = candidate;
    // A new function may live outside the folders watched so far (a template's new `CodeUri`).
    for (const definition of reloaded) if (typeof definition.handler === 'string') this.watcher?.include(definition.root);
    for (const { name } of removed) this.files.delete(name);
    await Promise.all(reloaded.map((definition) => this.learn(definition)));
    logger.log('info', next === previous ? 'reloaded functions' : 'reloaded the declaration', {
      functions: reloaded.map((d) => d.name).join(','),
      ...(removed.length === 0 ? {} : { removed: removed.map((d) => d.name).join(',') }),
    });
  }

  /** Whether a changed path belongs to the function `name`. */
  private touches(name: string, paths: ReadonlySet<string>): boolean {
    const files = this.files.get(name);
    if (files === undefined) return false;
    for (const path of paths) if (belongsTo(files, path)) return true;
    return false;
  }

  private async learn(definition: FunctionDefinition): Promise<void> {
    const files = await functionFiles(definition);
    if (files === undefined) this.files.delete(definition.name);
    else this.files.set(definition.name, files);
  }

  /** Says which changed settings wait for a restart: functions reload, the server's own settings do not. */
  private noteSettings(previous: Readonly<Settings>, next: Readonly<Settings>): void {
    const changed = (Object.keys(next) as (keyof Settings)[]).filter((key) => !RELOADED_SETTINGS.has(key) && !isDeepStrictEqual(previous[key], next[key]));
    if (changed.length === 0) return;
    this.options.logger.log('warn', `changed settings take effect at the next start: ${changed.join(', ')}`);
  }
}
