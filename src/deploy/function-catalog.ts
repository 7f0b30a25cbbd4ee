/**
 * @module deploy/function-catalog
 * Every function the server serves: the manifest's (read-only) and the deployed ones
 * (persistent, with versions and aliases). It enforces Lambda's rules for changes,
 * writes each change to the store before it becomes visible, tells its listener only
 * once the change is committed and visible (never about a failed one), and answers the Invoke
 * API's `resolve(name, qualifier)` from memory, picking an alias's version by weight.
 */
import { createHash, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { ConfigError } from '../config/config-error.js';
import { AwsError, functionNotFound } from '../errors.js';
import type { FunctionDefinition, FunctionRegistry, IsolationKind } from '../registry/function-definition.js';
import { EPHEMERAL_STORAGE } from '../registry/function-limits.js';
import { handlerEscape } from '../registry/handler-path.js';
import { runsAsProcessOnly } from '../registry/runtimes.js';
import { defaultRole, functionArn, type ServiceIdentity } from '../registry/arns.js';
import { CodeStore } from './code-store.js';
import { EnvironmentCipher } from './environment-cipher.js';
import { privateDirectory } from './private-files.js';
import {
  DeploymentStore, type AliasRecord, type FunctionRecord, type StoredConfiguration, type VersionRecord,
} from './deployment-store.js';

/** The unpublished version's name. */
export const LATEST = '$LATEST';

/** What the catalog tells the runtime about changes it cannot see in definitions; each call comes after the change committed. */
export interface CatalogListener {
  /** A function's reserved concurrency changed (undefined: none). */
  reservedConcurrencyChanged(name: string, limit: number | undefined): void;
  /** A function version is gone: its environments can stop. */
  versionRemoved(name: string, version: string): void;
  /** A function version can now be invoked (deployed, updated or loaded): environments for it can be got ready. */
  versionAdded(definition: FunctionDefinition): void;
}

/** How the catalog is set up. */
export interface CatalogOptions {
  readonly dataDir: string;
  readonly identity: ServiceIdentity;
  /** Isolation kind of functions deployed through the API (the `deployedIsolation` setting); the manifest's keep their own. */
  readonly isolation: IsolationKind;
  /** Account-wide concurrency, for the reserved concurrency check. */
  readonly concurrency: number;
  /** The manifest's functions: served, listed, never changed through the API. */
  readonly manifest: readonly FunctionDefinition[];
  /** Where the manifest functions come from, for messages. */
  readonly manifestSource: string;
  /** SAM's `AutoPublishAlias` of template functions: served as version 1, with this alias pointing at it. */
  readonly manifestAliases?: ReadonlyMap<string, string>;
  readonly listener: CatalogListener;
  /** Bytes of code packages the data directory may hold; past it, uploads get `CodeStorageExceededException`. Default: no limit. */
  readonly codeStorageLimit?: number;
  /** The file of the key that encrypts environment variables; default: `serverfull.key` in the data directory. */
  readonly kmsKeyFile?: string;
}

/** Configuration given to `CreateFunction` (complete) or `UpdateFunctionConfiguration` (partial). */
export type ConfigurationChange = Partial<StoredConfiguration>;

/** A version as the management API reports it, with the qualifier it was asked by. */
export interface VersionView {
  readonly record: VersionRecord;
  /** `FunctionArn` as AWS gives it for this request. */
  readonly arn: string;
}

/**
 * A change to tell the listener about. Collected while an operation runs and delivered
 * only once its transaction has committed and memory agrees, so a failed write leaves the
 * runtime unaware of a version that never existed.
 */
type Notice =
  | { readonly kind: 'added'; readonly definition: FunctionDefinition }
  | { readonly kind: 'removed'; readonly name: string; readonly version: string }
  | { readonly kind: 'reserved'; readonly name: string; readonly limit: number | undefined };

/** Version 1 of a manifest function with an alias, made from its `$LATEST` definition `latest`. */
interface PublishedManifestVersion {
  readonly alias: string;
  readonly latest: FunctionDefinition;
  readonly definition: FunctionDefinition;
}

interface DeployedVersion {
  readonly record: VersionRecord;
  readonly definition: FunctionDefinition;
}

interface DeployedFunction {
  record: FunctionRecord;
  latest: DeployedVersion;
  /** Published versions, in publishing order. */
  readonly versions: Map<string, DeployedVersion>;
  readonly aliases: Map<string, AliasRecord>;
}

const PRECONDITION_MESSAGE = 'The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id';

/** The functions of one server: manifest and deployed, resolved for invocations. */
export class FunctionCatalog implements FunctionRegistry {
  private readonly deployed = new Map<string, DeployedFunction>();
  private manifest: ReadonlyMap<string, FunctionDefinition>;
  /** Version 1 of manifest functions with an alias, as a fresh SAM deployment would have it. */
  private manifestVersions = new Map<string, PublishedManifestVersion>();
  private manifestRevision = randomUUID();
  /** When the manifest functions were last read: at start, then at each reload. */
  private startedAt = lastModified();
  private readonly store: DeploymentStore;
  private readonly code: CodeStore;
  /** Packages being uploaded for a change not yet committed, with how many uploads: never removed meanwhile. */
  private readonly uploading = new Map<string, number>();

  constructor(private readonly options: CatalogOptions) {
    this.manifest = new Map(options.manifest.map((definition) => [definition.name, definition]));
    this.manifestVersions = publishedManifestVersions(this.manifest, options.manifestAliases, new Map());
    const notices: Notice[] = [];
    for (const { name, reservedConcurrency } of options.manifest) {
      if (reservedConcurrency !== undefined) notices.push({ kind: 'reserved', name, limit: reservedConcurrency });
    }
    privateDirectory(options.dataDir);
    const cipher = EnvironmentCipher.forDataDir(options.dataDir, options.kmsKeyFile);
    this.store = new DeploymentStore(join(options.dataDir, 'serverfull.db'), cipher);
    try {
      this.code = new CodeStore(join(options.dataDir, 'code'), options.codeStorageLimit);
      notices.push(...this.loadStore());
      // Every stored environment opened with the key (or there were none): a new data directory's key is made now.
      cipher.ensureKey();
    } catch (error) {
      this.store.close();
      throw error;
    }
    // A catalog that fails to open tells the runtime nothing.
    this.deliver(notices);
  }

  // ---- Invoke -------------------------------------------------------------------------

  resolve(name: string, qualifier: string | undefined): FunctionDefinition | undefined {
    const fn = this.deployed.get(name);
    if (fn === undefined) {
      if (qualifier === undefined || qualifier === LATEST) return this.manifest.get(name);
      const published = this.manifestVersions.get(name);
      return published && (qualifier === published.alias || qualifier === '1') ? published.definition : undefined;
    }
    if (qualifier === undefined || qualifier === LATEST) return fn.latest.definition;
    const alias = fn.aliases.get(qualifier);
    if (alias === undefined) return fn.versions.get(qualifier)?.definition;
    let version = alias.functionVersion;
    if (alias.weights !== undefined) {
      // At most one additional version (AWS's limit): a single draw decides.
      for (const extra in alias.weights) if (Math.random() < alias.weights[extra]!) version = extra;
    }
    return version === LATEST ? fn.latest.definition : fn.versions.get(version)?.definition;
  }

  list(): readonly FunctionDefinition[] {
    return [...this.manifest.values(), ...[...this.deployed.values()].map((fn) => fn.latest.definition)];
  }

  // ---- Manifest -----------------------------------------------------------------------

  /**
   * Serves `definitions` as the manifest's functions from now on (hot reload). A definition that is the same
   * object as before is unchanged and keeps its environments; a new object replaces the old, whose environments
   * finish their invocations and stop. Throws `ConfigError`, changing nothing, when a name is also deployed.
   */
  replaceManifest(definitions: readonly FunctionDefinition[], aliases: ReadonlyMap<string, string> = new Map()): void {
    for (const { name } of definitions) {
      if (this.deployed.has(name)) {
        throw new ConfigError(`function "${name}" is declared in ${this.options.manifestSource} and also deployed in ${this.options.dataDir}: rename one, or delete the deployed function`);
      }
    }
    const before = this.manifest;
    const versionsBefore = this.manifestVersions;
    this.manifest = new Map(definitions.map((definition) => [definition.name, definition]));
    this.manifestVersions = publishedManifestVersions(this.manifest, aliases, versionsBefore);
    this.manifestRevision = randomUUID();
    this.startedAt = lastModified();
    const notices: Notice[] = [];
    for (const [name, old] of before) {
      const now = this.manifest.get(name);
      if (now !== old) notices.push({ kind: 'removed', name, version: LATEST });
      if (now?.reservedConcurrency !== old.reservedConcurrency) notices.push({ kind: 'reserved', name, limit: now?.reservedConcurrency });
    }
    for (const [name, old] of versionsBefore) {
      if (this.manifestVersions.get(name)?.definition !== old.definition) notices.push({ kind: 'removed', name, version: old.definition.version });
    }
    for (const [name, definition] of this.manifest) {
      if (before.get(name) === definition) continue;
      if (!before.has(name) && definition.reservedConcurrency !== undefined) notices.push({ kind: 'reserved', name, limit: definition.reservedConcurrency });
      notices.push({ kind: 'added', definition });
    }
    for (const [name, { definition }] of this.manifestVersions) {
      if (versionsBefore.get(name)?.definition !== definition) notices.push({ kind: 'added', definition });
    }
    this.deliver(notices);
  }

  // ---- Functions ----------------------------------------------------------------------

  /** `CreateFunction`: a new function from a zip, optionally publishing version 1. */
  async createFunction(name: string, config: StoredConfiguration, zip: Buffer, publish: boolean, tags: Record<string, string>): Promise<VersionView> {
    checkHandler(config.handler);
    this.assertNameFree(name);
    const pkg = await this.putCode(zip);
    try {
      this.assertNameFree(name);
    } catch (error) {
      this.releaseCode([], pkg.codeSha256);
      throw error;
    }
    const latest = this.versionRecord(name, LATEST, config, pkg.codeSha256, pkg.codeSize);
    const fn: DeployedFunction = {
      record: { name, nextVersion: 1, tags },
      latest: this.deployedVersion(latest),
      versions: new Map(),
      aliases: new Map(),
    };
    const published = publish ? this.snapshot(fn, latest, config.description) : undefined;
    try {
      this.store.transaction((writer) => {
        writer.putFunction(published?.record ?? fn.record);
        writer.putVersion(latest);
        if (published) writer.putVersion(published.version);
      });
      this.deployed.set(name, fn);
    } finally {
      this.releaseCode([], pkg.codeSha256);
    }
    const notices: Notice[] = [added(fn.latest)];
    const view = published ? this.addPublished(fn, published, notices) : this.view(latest, undefined);
    this.deliver(notices);
    return view;
  }

  /** `UpdateFunctionCode`: new code for `$LATEST`; environments start over with it. */
  async updateCode(name: string, zip: Buffer, publish: boolean, revisionId: string | undefined, architectures?: readonly string[]): Promise<VersionView> {
    this.checkRevision(this.writable(name).latest.record, revisionId);
    const pkg = await this.putCode(zip);
    let replaced: string | undefined;
    try {
      const fn = this.writable(name);
      this.checkRevision(fn.latest.record, revisionId);
      replaced = fn.latest.record.codeSha256;
      const config = { ...fn.latest.record.config, architectures: architectures ?? fn.latest.record.config.architectures };
      const latest = this.versionRecord(name, LATEST, config, pkg.codeSha256, pkg.codeSize);
      return this.replaceLatest(fn, latest, publish);
    } finally {
      // The new package when the change failed, the old one when nothing uses it any more.
      this.releaseCode(replaced === undefined ? [] : [replaced], pkg.codeSha256);
    }
  }

  /** `UpdateFunctionConfiguration`: changes some settings of `$LATEST`. */
  updateConfiguration(name: string, change: ConfigurationChange, revisionId: string | undefined): VersionView {
    const fn = this.writable(name);
    const current = fn.latest.record;
    this.checkRevision(current, revisionId);
    if (change.handler !== undefined) checkHandler(change.handler);
    const config = { ...current.config, ...withoutUndefined(change) };
    return this.replaceLatest(fn, this.versionRecord(name, LATEST, config, current.codeSha256, current.codeSize), false);
  }

  /** `DeleteFunction`: the whole function, or one published version. */
  deleteFunction(name: string, qualifier: string | undefined): void {
    const fn = this.writable(name);
    if (qualifier === undefined) {
      this.store.transaction((writer) => writer.deleteFunction(name));
      this.deployed.delete(name);
      const notices: Notice[] = [LATEST, ...fn.versions.keys()].map((version) => ({ kind: 'removed', name, version }));
      if (fn.record.reservedConcurrency !== undefined) notices.push({ kind: 'reserved', name, limit: undefined });
      this.deliver(notices);
      this.releaseCode([fn.latest.record.codeSha256, ...[...fn.versions.values()].map((v) => v.record.codeSha256)]);
      return;
    }
    if (qualifier === LATEST) {
      throw new AwsError('InvalidParameterValueException', '$LATEST version cannot be deleted without deleting the function.');
    }
    if (fn.aliases.has(qualifier)) {
      throw new AwsError('InvalidParameterValueException', 'Deletion of aliases is not supported through DeleteFunction. Use DeleteAlias instead.');
    }
    if (!fn.versions.has(qualifier)) throw functionNotFound(this.arn(name, qualifier));
    const users = [...fn.aliases.values()].filter((a) => a.functionVersion === qualifier || (a.weights && qualifier in a.weights));
    if (users.length > 0) {
      throw new AwsError('ResourceConflictException', `Unable to delete version because the following aliases reference it: [${users.map((a) => a.name).join(', ')}]`);
    }
    const { codeSha256 } = fn.versions.get(qualifier)!.record;
    this.store.transaction((writer) => writer.deleteVersion(name, qualifier));
    fn.versions.delete(qualifier);
    this.deliver([{ kind: 'removed', name, version: qualifier }]);
    this.releaseCode([codeSha256]);
  }

  /** `GetFunction`/`GetFunctionConfiguration`: a version, or the version an alias points to. */
  getVersion(name: string, qualifier: string | undefined): VersionView {
    const fn = this.deployed.get(name);
    if (fn === undefined) {
      const definition = this.manifest.get(name);
      if (!definition || (qualifier !== undefined && qualifier !== LATEST)) throw functionNotFound(this.arn(name, qualifier));
      return this.view(this.manifestRecord(definition), qualifier);
    }
    if (qualifier === undefined || qualifier === LATEST) return this.view(fn.latest.record, qualifier);
    const alias = fn.aliases.get(qualifier);
    const version = this.findVersion(fn, alias ? alias.functionVersion : qualifier);
    if (!version) throw functionNotFound(this.arn(name, qualifier));
    return this.view(version.record, qualifier);
  }

  /** The function-level record (reserved concurrency, tags) of a deployed or manifest function. */
  getFunction(name: string): FunctionRecord {
    const fn = this.deployed.get(name);
    if (fn) return fn.record;
    const definition = this.manifest.get(name);
    if (!definition) throw functionNotFound(this.arn(name));
    return { name, reservedConcurrency: definition.reservedConcurrency, nextVersion: 1, tags: {} };
  }

  /** `ListFunctions`: every function's `$LATEST` (and with `all`, its published versions), by name. */
  listFunctions(all: boolean): VersionView[] {
    const names = [...new Set([...this.manifest.keys(), ...this.deployed.keys()])].sort();
    return names.flatMap((name) => {
      const fn = this.deployed.get(name);
      if (!fn) return [this.view(this.manifestRecord(this.manifest.get(name)!), undefined)];
      const latest = this.view(fn.latest.record, all ? LATEST : undefined);
      return all ? [latest, ...[...fn.versions.values()].map((v) => this.view(v.record, v.record.version))] : [latest];
    });
  }

  /** `ListVersionsByFunction`: `$LATEST`, then published versions in order. */
  listVersions(name: string): VersionView[] {
    const fn = this.deployed.get(name);
    if (!fn) return [this.view(this.manifestRecord(this.requireManifest(name)), LATEST)];
    return [fn.latest, ...fn.versions.values()].map((v) => this.view(v.record, v.record.version));
  }

  // ---- Versions -----------------------------------------------------------------------

  /** `PublishVersion`: snapshots `$LATEST`, or returns the last version when nothing changed. */
  publishVersion(name: string, codeSha256: string | undefined, description: string | undefined, revisionId: string | undefined): VersionView {
    const fn = this.writable(name);
    const latest = fn.latest.record;
    this.checkRevision(latest, revisionId);
    if (codeSha256 !== undefined && codeSha256 !== latest.codeSha256) {
      throw new AwsError(
        'InvalidParameterValueException',
        `CodeSHA256 (${codeSha256}) is different from current CodeSHA256 in $LATEST (${latest.codeSha256}). Please try again with the CodeSHA256 in $LATEST.`,
      );
    }
    const last = [...fn.versions.values()].at(-1)?.record;
    if (last && fn.record.publishedFingerprint === fingerprint(latest)) return this.view(last, last.version);
    const published = this.snapshot(fn, latest, description ?? latest.config.description);
    this.store.transaction((writer) => {
      writer.putFunction(published.record);
      writer.putVersion(published.version);
    });
    const notices: Notice[] = [];
    const view = this.addPublished(fn, published, notices);
    this.deliver(notices);
    return view;
  }

  // ---- Aliases ------------------------------------------------------------------------

  /** `CreateAlias`. */
  createAlias(name: string, alias: string, functionVersion: string, description: string, weights: Record<string, number> | undefined): AliasRecord {
    const fn = this.writable(name);
    if (fn.aliases.has(alias)) throw new AwsError('ResourceConflictException', `Alias already exists: ${this.arn(name, alias)}`);
    const record: AliasRecord = { functionName: name, name: alias, functionVersion, description, weights, revisionId: randomUUID() };
    this.checkAliasTargets(fn, record);
    this.store.transaction((writer) => writer.putAlias(record));
    fn.aliases.set(alias, record);
    return record;
  }

  /** `GetAlias`. */
  getAlias(name: string, alias: string): AliasRecord {
    const record = this.deployedOrManifest(name)?.aliases.get(alias);
    if (!record) throw new AwsError('ResourceNotFoundException', `Cannot find alias arn: ${this.arn(name, alias)}`);
    return record;
  }

  /** `UpdateAlias`: moves the alias (the switch, or the rollback) and/or changes its weights. */
  updateAlias(
    name: string,
    alias: string,
    change: { functionVersion?: string; description?: string; weights?: Record<string, number> | null },
    revisionId: string | undefined,
  ): AliasRecord {
    const fn = this.writable(name);
    const current = fn.aliases.get(alias);
    if (!current) throw new AwsError('ResourceNotFoundException', `Alias not found: ${this.arn(name, alias)}`);
    if (revisionId !== undefined && revisionId !== current.revisionId) throw new AwsError('PreconditionFailedException', PRECONDITION_MESSAGE);
    const weights = change.weights === undefined ? current.weights : change.weights ?? undefined;
    const record: AliasRecord = {
      ...current,
      functionVersion: change.functionVersion ?? current.functionVersion,
      description: change.description ?? current.description,
      weights: weights && Object.keys(weights).length > 0 ? weights : undefined,
      revisionId: randomUUID(),
    };
    this.checkAliasTargets(fn, record);
    this.store.transaction((writer) => writer.putAlias(record));
    fn.aliases.set(alias, record);
    return record;
  }

  /** `DeleteAlias`; deleting an alias that does not exist succeeds, as in AWS. */
  deleteAlias(name: string, alias: string): void {
    const fn = this.writable(name);
    if (!fn.aliases.has(alias)) return;
    this.store.transaction((writer) => writer.deleteAlias(name, alias));
    fn.aliases.delete(alias);
  }

  /** `ListAliases`, optionally only those pointing at `functionVersion`, by name. */
  listAliases(name: string, functionVersion: string | undefined): AliasRecord[] {
    const fn = this.deployedOrManifest(name);
    const aliases = fn ? [...fn.aliases.values()] : [];
    return aliases
      .filter((a) => functionVersion === undefined || a.functionVersion === functionVersion)
      .sort((a, b) => (a.name < b.name ? -1 : 1));
  }

  /** The ARN of a function, version or alias. */
  arn(name: string, qualifier?: string): string {
    return functionArn(this.options.identity, name, qualifier);
  }

  // ---- Concurrency --------------------------------------------------------------------

  /** `PutFunctionConcurrency`: refuses to leave the account fewer than its minimum unreserved executions. */
  putConcurrency(name: string, limit: number): number {
    const fn = this.writable(name);
    const { concurrency } = this.options;
    const minimumUnreserved = Math.min(100, Math.floor(concurrency / 10));
    const reservedElsewhere = this.list()
      .filter((d) => d.name !== name)
      .reduce((sum, d) => sum + (this.getFunction(d.name).reservedConcurrency ?? 0), 0);
    if (concurrency - reservedElsewhere - limit < minimumUnreserved) {
      throw new AwsError(
        'InvalidParameterValueException',
        `Specified ReservedConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below its minimum value of [${minimumUnreserved}].`,
      );
    }
    this.setReserved(fn, limit);
    return limit;
  }

  /** `DeleteFunctionConcurrency`. */
  deleteConcurrency(name: string): void {
    this.setReserved(this.writable(name), undefined);
  }

  /** Closes the store; the catalog answers nothing after this. */
  close(): void {
    this.store.close();
  }

  /** Where the zip of a package is kept, for downloads. */
  archivePath(codeSha256: string): string {
    return this.code.archive(codeSha256);
  }

  /** Whether any deployed version uses this package. */
  usesPackage(codeSha256: string): boolean {
    for (const fn of this.deployed.values()) {
      if (fn.latest.record.codeSha256 === codeSha256) return true;
      for (const v of fn.versions.values()) if (v.record.codeSha256 === codeSha256) return true;
    }
    return false;
  }

  /** Bytes of code packages stored, counted against `codeStorageLimit`. */
  get codeStorageUsed(): number {
    return this.code.usedBytes;
  }

  // ---- Internals ----------------------------------------------------------------------

  /** Stores a package and marks it as being uploaded until `releaseCode`, so no removal takes it meanwhile. */
  private async putCode(zip: Buffer): Promise<{ codeSha256: string; codeSize: number }> {
    const pkg = await this.code.put(zip);
    this.uploading.set(pkg.codeSha256, (this.uploading.get(pkg.codeSha256) ?? 0) + 1);
    return pkg;
  }

  /**
   * Removes, at once, the packages among `candidates` that no version uses and no upload is about to
   * use. Called after a change is committed (or has failed), when the candidates' last users may be gone;
   * `uploaded` ends the mark of the caller's own upload (and is a candidate too, when its change failed).
   */
  private releaseCode(candidates: readonly string[], uploaded?: string): void {
    if (uploaded !== undefined) {
      const count = this.uploading.get(uploaded) ?? 1;
      if (count > 1) this.uploading.set(uploaded, count - 1);
      else this.uploading.delete(uploaded);
    }
    for (const sha of new Set(uploaded === undefined ? candidates : [...candidates, uploaded])) {
      if (sha && !this.uploading.has(sha) && !this.usesPackage(sha)) this.code.remove(sha);
    }
  }

  /** Loads the deployed functions into memory; returns the notices for them, to deliver once the catalog is open. */
  private loadStore(): Notice[] {
    const { functions, versions, aliases } = this.store.load();
    for (const record of functions) {
      if (this.manifest.has(record.name)) {
        throw new ConfigError(
          `function "${record.name}" is declared in ${this.options.manifestSource} and also deployed in ${this.options.dataDir}: rename one, or start without the manifest entry and delete the deployed function`,
        );
      }
    }
    const byName = new Map(functions.map((record) => [record.name, record]));
    const notices: Notice[] = [];
    const sorted = [...versions].sort((a, b) => Number(a.version) - Number(b.version));
    for (const version of sorted.filter((v) => v.version === LATEST)) {
      const record = byName.get(version.functionName);
      if (!record) continue;
      const latest = this.deployedVersion(version);
      this.deployed.set(record.name, { record, latest, versions: new Map(), aliases: new Map() });
      notices.push(added(latest));
      if (record.reservedConcurrency !== undefined) notices.push({ kind: 'reserved', name: record.name, limit: record.reservedConcurrency });
    }
    for (const version of sorted) {
      const fn = this.deployed.get(version.functionName);
      if (!fn || version.version === LATEST) continue;
      const deployed = this.deployedVersion(version);
      fn.versions.set(version.version, deployed);
      notices.push(added(deployed));
    }
    for (const alias of aliases) this.deployed.get(alias.functionName)?.aliases.set(alias.name, alias);
    const inUse = new Set(versions.map((v) => v.codeSha256));
    this.code.sweep(inUse);
    return notices;
  }

  private replaceLatest(fn: DeployedFunction, latest: VersionRecord, publish: boolean): VersionView {
    const last = [...fn.versions.values()].at(-1)?.record;
    const unchanged = last !== undefined && fn.record.publishedFingerprint === fingerprint(latest);
    const published = publish && !unchanged ? this.snapshot(fn, latest, latest.config.description) : undefined;
    this.store.transaction((writer) => {
      writer.putVersion(latest);
      if (published) {
        writer.putFunction(published.record);
        writer.putVersion(published.version);
      }
    });
    fn.latest = this.deployedVersion(latest);
    const notices: Notice[] = [added(fn.latest)];
    let view: VersionView;
    if (published) view = this.addPublished(fn, published, notices);
    else view = publish && unchanged ? this.view(last, last.version) : this.view(latest, undefined);
    this.deliver(notices);
    return view;
  }

  /** The next published version of `latest` and the function record after it, neither stored yet. */
  private snapshot(fn: DeployedFunction, latest: VersionRecord, description: string): { version: VersionRecord; record: FunctionRecord } {
    const version = this.versionRecord(fn.record.name, String(fn.record.nextVersion), { ...latest.config, description }, latest.codeSha256, latest.codeSize);
    return { version, record: { ...fn.record, nextVersion: fn.record.nextVersion + 1, publishedFingerprint: fingerprint(latest) } };
  }

  /** Makes a stored snapshot visible; its notice joins `notices`, for the caller to deliver. */
  private addPublished(fn: DeployedFunction, published: { version: VersionRecord; record: FunctionRecord }, notices: Notice[]): VersionView {
    fn.record = published.record;
    const version = this.deployedVersion(published.version);
    fn.versions.set(published.version.version, version);
    notices.push(added(version));
    return this.view(published.version, published.version.version);
  }

  /**
   * Tells the listener about changes that are committed and visible. Callers reach this
   * only after their transaction returned: when it throws, nothing is delivered.
   */
  private deliver(notices: readonly Notice[]): void {
    const { listener } = this.options;
    for (const notice of notices) {
      if (notice.kind === 'added') listener.versionAdded(notice.definition);
      else if (notice.kind === 'removed') listener.versionRemoved(notice.name, notice.version);
      else listener.reservedConcurrencyChanged(notice.name, notice.limit);
    }
  }

  private versionRecord(functionName: string, version: string, config: StoredConfiguration, codeSha256: string, codeSize: number): VersionRecord {
    return { functionName, version, config, codeSha256, codeSize, revisionId: randomUUID(), lastModified: lastModified() };
  }

  private deployedVersion(record: VersionRecord): DeployedVersion {
    const { config } = record;
    const definition: FunctionDefinition = Object.freeze({
      name: record.functionName,
      version: record.version,
      runtime: config.runtime,
      handler: config.handler,
      root: this.code.root(record.codeSha256),
      timeout: config.timeout,
      memorySize: config.memorySize,
      ephemeralStorage: config.ephemeralStorage,
      environment: Object.freeze({ ...config.environment }),
      // A custom runtime's bootstrap and a Python handler cannot run in a thread: they are processes.
      isolation: runsAsProcessOnly(config.runtime) ? 'process' : this.options.isolation,
      description: config.description,
      role: config.role,
      ...(config.deadLetterTarget ? { deadLetterTarget: config.deadLetterTarget } : {}),
    });
    return { record, definition };
  }

  private setReserved(fn: DeployedFunction, limit: number | undefined): void {
    const record = { ...fn.record, reservedConcurrency: limit };
    this.store.transaction((writer) => writer.putFunction(record));
    fn.record = record;
    this.deliver([{ kind: 'reserved', name: record.name, limit }]);
  }

  private checkAliasTargets(fn: DeployedFunction, alias: AliasRecord): void {
    const name = fn.record.name;
    if (alias.functionVersion !== LATEST && !fn.versions.has(alias.functionVersion)) throw functionNotFound(this.arn(name, alias.functionVersion));
    for (const extra of Object.keys(alias.weights ?? {})) {
      if (alias.functionVersion === LATEST) throw new AwsError('InvalidParameterValueException', '$LATEST is not supported for an alias pointing to more than 1 version');
      if (extra === alias.functionVersion) {
        throw new AwsError('InvalidParameterValueException', `Invalid function version ${extra}. Function version ${extra} is already included in routing configuration.`);
      }
      if (!fn.versions.has(extra)) throw functionNotFound(this.arn(name, extra));
    }
  }

  private checkRevision(current: VersionRecord, revisionId: string | undefined): void {
    if (revisionId !== undefined && revisionId !== current.revisionId) throw new AwsError('PreconditionFailedException', PRECONDITION_MESSAGE);
  }

  private findVersion(fn: DeployedFunction, version: string): DeployedVersion | undefined {
    return version === LATEST ? fn.latest : fn.versions.get(version);
  }

  /** A deployed function that may be changed; manifest functions are refused, unknown ones are 404. */
  private writable(name: string): DeployedFunction {
    const fn = this.deployed.get(name);
    if (fn) return fn;
    this.requireManifest(name);
    throw new AwsError('ResourceConflictException', `Function ${name} is declared in ${this.options.manifestSource}; change it there, not through the API.`);
  }

  private deployedOrManifest(name: string): DeployedFunction | undefined {
    const fn = this.deployed.get(name);
    if (!fn) this.requireManifest(name);
    return fn;
  }

  private requireManifest(name: string): FunctionDefinition {
    const definition = this.manifest.get(name);
    if (!definition) throw functionNotFound(this.arn(name));
    return definition;
  }

  private assertNameFree(name: string): void {
    if (this.deployed.has(name)) throw new AwsError('ResourceConflictException', `Function already exist: ${name}`);
    if (this.manifest.has(name)) {
      throw new AwsError('ResourceConflictException', `Function already exist: ${name} (declared in ${this.options.manifestSource})`);
    }
  }

  /** A manifest function, reported as if it had been deployed when the server started. */
  private manifestRecord(definition: FunctionDefinition): VersionRecord {
    return {
      functionName: definition.name,
      version: LATEST,
      config: {
        runtime: definition.runtime,
        handler: typeof definition.handler === 'string' ? definition.handler : 'inline.handler',
        role: defaultRole(this.options.identity.accountId),
        timeout: definition.timeout,
        memorySize: definition.memorySize,
        ephemeralStorage: definition.ephemeralStorage ?? EPHEMERAL_STORAGE.default,
        environment: definition.environment,
        description: definition.description,
        architectures: ['x86_64'],
      },
      codeSha256: '',
      codeSize: 0,
      revisionId: this.manifestRevision,
      lastModified: this.startedAt,
    };
  }

  private view(record: VersionRecord, qualifier: string | undefined): VersionView {
    return { record, arn: this.arn(record.functionName, qualifier) };
  }
}

/** AWS's `LastModified` form: `2024-01-31T12:00:00.000+0000`. */
function lastModified(now = new Date()): string {
  return now.toISOString().replace('Z', '+0000');
}

/** What makes two versions the same: code and configuration (not the RevisionId or the time). */
function fingerprint(version: VersionRecord): string {
  const sorted = (value: unknown): unknown =>
    value && typeof value === 'object' && !Array.isArray(value)
      ? Object.fromEntries(Object.entries(value).sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => [k, sorted(v)]))
      : value;
  // The default storage counts as unset: fingerprints stored before the field existed still match.
  const { ephemeralStorage, ...config } = version.config;
  const counted = ephemeralStorage === EPHEMERAL_STORAGE.default ? config : version.config;
  return createHash('sha256').update(JSON.stringify(sorted({ code: version.codeSha256, config: counted }))).digest('base64');
}

/** Refuses a handler whose file part leaves the function's code folder. */
function checkHandler(handler: string): void {
  const escape = handlerEscape(handler);
  if (escape !== undefined) {
    throw new AwsError('InvalidParameterValueException', `The handler ${handler} is not valid: ${escape}. A handler names a file inside the deployment package, relative to its root.`);
  }
}

/** Version 1 of the manifest functions that have an alias; an unchanged function keeps its version object from `before`. */
function publishedManifestVersions(
  manifest: ReadonlyMap<string, FunctionDefinition>,
  aliases: ReadonlyMap<string, string> | undefined,
  before: ReadonlyMap<string, PublishedManifestVersion>,
): Map<string, PublishedManifestVersion> {
  const versions = new Map<string, PublishedManifestVersion>();
  for (const [name, alias] of aliases ?? []) {
    const definition = manifest.get(name);
    if (!definition) continue;
    const previous = before.get(name);
    // The same `$LATEST` object means the same code and configuration (hot reload makes a new one for any change).
    const unchanged = previous !== undefined && previous.alias === alias && previous.latest === definition;
    versions.set(name, unchanged ? previous : { alias, latest: definition, definition: Object.freeze({ ...definition, version: '1' }) });
  }
  return versions;
}

function added(version: DeployedVersion): Notice {
  return { kind: 'added', definition: version.definition };
}

function withoutUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
