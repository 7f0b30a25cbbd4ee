/**
 * @module runtime/process-environment
 * An execution environment in a child process, as AWS runs them: the process is the
 * function's runtime (serverfull's Node.js runtime client, or a custom runtime's
 * `bootstrap`) and pulls its work from a Runtime API of its own. It shares no memory or
 * file descriptors with the server; its stdout and stderr, line by line, become the invocation's log.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import { Socket } from 'node:net';
import { platformErrors, type FunctionErrorPayload } from '../handler/function-errors.js';
import type { EnvironmentIdentity } from '../handler/lambda-context.js';
import type { FunctionNetwork } from '../registry/function-definition.js';
import { RuntimeApiServer } from '../runtime-api/runtime-api-server.js';
import { RUNTIME_CHANNEL_FD, RUNTIME_CHANNEL_FD_VARIABLE } from '../runtime-api/runtime-frames.js';
import { platformFailure, type ExecutionEnvironment, type FunctionLogLevel, type InvocationOutcome, type InvocationRequest, type LogSink } from './execution-environment.js';
import { connectionHeldBy } from './connection-owner.js';
import { createEnvironmentCgroup, type EnvironmentCgroup } from './environment-cgroup.js';
import { ProcessPeakMemory } from './process-peak-memory.js';
import { RuntimeOutput } from './runtime-output.js';
import { batchScheduled, startBatchScheduling } from './batch-scheduling.js';
import { SampledReading } from './sampled-reading.js';
import { sandboxedCommand } from './sandbox-command.js';
import { IsolatedNetwork } from './sandbox-network.js';

/** How to start the runtime process of one environment. */
export interface RuntimeCommand {
  /** The executable: Node.js, or a custom runtime's `bootstrap`. */
  readonly file: string;
  readonly args: readonly string[];
  /** The task root: AWS starts runtimes in `/var/task`. */
  readonly cwd: string;
  /** The complete environment, but for `AWS_LAMBDA_RUNTIME_API`, which the environment adds. */
  readonly env: Readonly<Record<string, string>>;
  /** Whether the runtime is serverfull's own client, which takes the Runtime API's calls over a private channel instead of HTTP. */
  readonly privateChannel?: boolean;
}

/** How a process environment is sandboxed (`sandbox` setting): bubblewrap, its cgroups, a secret Runtime API path. */
export interface ProcessSandboxOptions {
  /** The bubblewrap executable. */
  readonly bwrap: string;
  /** Host folders the runtime needs besides the system and the function's code, shown read-only. */
  readonly runtimeFolders: readonly string[];
  /** Bytes of the sandbox's private `/tmp`; default 512 MB. */
  readonly tmpBytes?: number;
  /** Freeze the environment's cgroup while it waits for an event, as Lambda does (off only to measure what it costs). */
  readonly freeze: boolean;
  /** `none`: a network namespace of its own, reaching only its Runtime API and the Lambda APIs; else the host's network. */
  readonly network: FunctionNetwork;
  /** Show the project's `node_modules` (Node.js functions); default true. */
  readonly nodeModules?: boolean;
}

/** Output lines kept while no invocation runs (init, background work); the rest is dropped. */
const MAX_EARLY_LINES = 1000;
/** Characters of stderr kept before each new piece, to find a message split across two pieces. */
const STDERR_TAIL_CHARS = 64;
const OUT_OF_MEMORY = /JavaScript heap out of memory|Reached heap limit/;
/** The longest an exit waits for the rest of the runtime's stderr. */
const STDERR_DRAIN_MS = 1000;
/**
 * How long a sandboxed runtime waits for its next event unfrozen before it is frozen. Under load the next event comes
 * within a few milliseconds, and freezing and thawing each runtime at every invocation (the kernel stops and wakes each
 * of its threads) cost a fifth of the throughput. A timer a handler leaves behind can tick in this grace, as it can
 * while the kernel freezes the group; once the environment is idle, nothing of it runs until the next invocation.
 */
const FREEZE_GRACE_MS = 10;

interface Pending {
  readonly request: InvocationRequest;
  readonly log: LogSink;
  readonly done: (outcome: InvocationOutcome) => void;
  readonly initialized: (() => void) | undefined;
}

/** One start of the runtime: its process and its Runtime API. */
interface Sandbox {
  readonly api: RuntimeApiServer;
  child?: ChildProcess;
  exited?: Promise<void>;
  readonly startedAt: number;
  /** The runtime finished its init (asked for an event) at least once. */
  ready: boolean;
  /** The end of stderr so far, to find a message split across two pieces. */
  stderrTail: string;
  /** The runtime said it ran out of memory. */
  outOfMemory: boolean;
  readonly stdout: RuntimeOutput;
  readonly stderr: RuntimeOutput;
  /** The cgroups of a sandboxed start: its limits, and every process it started. */
  cgroup?: EnvironmentCgroup;
  /** The cgroup is frozen: the runtime waits for an event, its processes stopped. */
  frozen: boolean;
  /** Freezes the cgroup once the runtime has waited for an event for `FREEZE_GRACE_MS`; cleared by the next event. */
  freezeTimer?: NodeJS.Timeout;
  /** The sockets of a sandbox without a network. */
  network?: IsolatedNetwork;
  /** The most memory its processes have used, in MB, read at most every 10 ms (REPORT's "Max Memory Used"). */
  readonly peakMemory: SampledReading;
  /** Without a cgroup, where that is read: the runtime process's own peak. */
  processPeak?: ProcessPeakMemory;
}

/** Process groups of runtimes still running (with their cgroup, to thaw), killed if the server exits without disposing them. */
const liveGroups = new Map<number, EnvironmentCgroup | undefined>();
let exitHookInstalled = false;

/** A child-process execution environment. */
export class ProcessEnvironment implements ExecutionEnvironment {
  alive = true;
  private sandbox: Sandbox;
  private pending: Pending | undefined;
  /** Where output goes: the invocation in flight, or the one that just answered until its output is read. */
  private logTarget: LogSink | undefined;
  private early: Array<[FunctionLogLevel, string, string]> = [];
  private initDurationMs: number | undefined;
  private deliveredAt = 0;

  /**
   * Starts the runtime process at once; the first invocation waits for its init. `lambdaEndpoint`: serverfull's
   * Lambda APIs, which a sandbox without a network reaches through its sockets.
   */
  constructor(
    private readonly command: RuntimeCommand,
    private readonly identity: EnvironmentIdentity,
    private readonly sandboxOptions?: ProcessSandboxOptions,
    private readonly lambdaEndpoint?: string,
    /** The Parameters and Secrets extension's port on the host's loopback, forwarded into a sandbox without a network. */
    private readonly parametersPort?: number,
  ) {
    this.sandbox = this.startSandbox();
  }

  /** The runtime has finished its init and asked for its first event. */
  get ready(): boolean {
    return this.sandbox.ready;
  }

  invoke(request: InvocationRequest, log: LogSink, done: (outcome: InvocationOutcome) => void, initialized?: () => void): void {
    this.pending = { request, log, done, initialized };
    this.logTarget = log;
    if (this.early.length > 0) {
      for (const [level, message, raw] of this.early) log(level, message, raw);
      this.early = [];
    }
    // Thawed before the event reaches the runtime, so that it runs (and its timeout counts) only from here.
    cancelFreeze(this.sandbox);
    thaw(this.sandbox);
    this.deliveredAt = performance.now();
    this.sandbox.api.deliver(request);
  }

  async dispose(): Promise<void> {
    this.alive = false;
    this.pending = undefined;
    this.logTarget = undefined;
    const { exited } = this.sandbox;
    closeApis(this.sandbox);
    killGroup(this.sandbox);
    await exited;
    await this.sandbox.cgroup?.remove();
  }

  private startSandbox(): Sandbox {
    const sandbox: Sandbox = {
      api: new RuntimeApiServer({
        onReady: () => {
          sandbox.ready = true;
          this.initDurationMs = performance.now() - sandbox.startedAt;
          this.deliveredAt = performance.now();
          // Before the queued event is handed over: its deadline counts from here.
          this.pending?.initialized?.();
        },
        onAnswer: (requestId, payload, functionError) => this.onAnswer(requestId, payload, functionError),
        onInitError: (payload, errorType) => this.onInitError(sandbox, payload, errorType),
        onWaiting: () => this.onWaiting(sandbox),
        // Without a network, the Runtime API is on a Unix socket only this sandbox reaches (see sandbox-network).
      }, this.sandboxOptions === undefined || this.sandboxOptions.network === 'none' ? undefined
        : (socket) => sandbox.cgroup !== undefined && connectionHeldBy(socket, sandbox.cgroup.processes())),
      startedAt: performance.now(),
      ready: false,
      stderrTail: '',
      outOfMemory: false,
      stdout: new RuntimeOutput(this.line),
      stderr: new RuntimeOutput(this.line),
      frozen: false,
      peakMemory: new SampledReading(() => readPeakMemoryMB(sandbox)),
    };
    void this.spawnRuntime(sandbox);
    return sandbox;
  }

  private async spawnRuntime(sandbox: Sandbox): Promise<void> {
    // Tried as the server started: already known but at a first start right after it.
    const chrt = await startBatchScheduling();
    let address: string;
    try {
      if (this.sandboxOptions?.network === 'none') {
        sandbox.network = await IsolatedNetwork.open(sandbox.api, this.lambdaEndpoint, this.parametersPort);
        address = sandbox.network.runtimeApi;
      } else {
        address = await sandbox.api.listen();
      }
    } catch {
      this.fail(sandbox, (requestId) => platformErrors.invalidEntrypoint(requestId, 'cannot open a Runtime API port'));
      return;
    }
    if (!this.alive) return closeApis(sandbox);
    // The runtime's file is checked here, on the host: it is started through `chrt` (and sandboxed, through a shell), whose
    // own failure to run it would not say why as a failed spawn does.
    if (!this.runnable(sandbox)) return;
    const command = this.sandboxOptions === undefined ? this.command : this.sandboxCommand(sandbox);
    if (command === undefined) return;
    const { cwd, env } = command;
    const { file, args } = batchScheduled(chrt, command.file, command.args);
    const channel = this.command.privateChannel === true;
    // Its own process group, so that a timeout kills whatever the runtime started too.
    const runtimeEnv = { ...env, ...this.isolatedEndpoint(sandbox), AWS_LAMBDA_RUNTIME_API: address };
    const child = spawn(file, args, {
      cwd,
      env: channel ? { ...runtimeEnv, [RUNTIME_CHANNEL_FD_VARIABLE]: String(RUNTIME_CHANNEL_FD) } : runtimeEnv,
      stdio: channel ? ['ignore', 'pipe', 'pipe', 'pipe'] : ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    sandbox.child = child;
    if (sandbox.cgroup === undefined && child.pid !== undefined) sandbox.processPeak = new ProcessPeakMemory(child.pid);
    if (channel && child.stdio[RUNTIME_CHANNEL_FD] instanceof Socket) {
      const socket = child.stdio[RUNTIME_CHANNEL_FD] as Socket;
      socket.unref();
      sandbox.api.serveChannel(socket);
    }
    // Like a worker, an idle runtime process does not keep the server's process alive (an invocation holds its timer).
    child.unref();
    (child.stdout as Socket).unref();
    (child.stderr as Socket).unref();
    sandbox.exited = new Promise((resolve) => child.once('close', () => resolve()).once('error', () => resolve()));
    child.stdout!.setEncoding('utf8').on('data', (text: string) => sandbox.stdout.write(text));
    child.stderr!.setEncoding('utf8').on('data', (text: string) => {
      // Searched as it arrives: Node.js 22 prints a long native stack trace after the message.
      const joined = sandbox.stderrTail + text;
      if (OUT_OF_MEMORY.test(joined)) sandbox.outOfMemory = true;
      sandbox.stderrTail = joined.slice(-STDERR_TAIL_CHARS);
      sandbox.stderr.write(text);
    });
    child.once('error', (error: NodeJS.ErrnoException) => this.onSpawnError(sandbox, error));
    child.once('exit', (code, signal) => {
      // The sandbox ends with its runtime: nothing the runtime started outlives it.
      killGroup(sandbox);
      // The kernel stops a sandbox over its memory limit: its runtime says nothing.
      if (sandbox.cgroup?.outOfMemory) sandbox.outOfMemory = true;
      // A runtime that runs out of memory says so on stderr just before it aborts: read it to its end
      // before deciding what the exit was (bounded, in case something outside the group holds stderr open).
      whenEnded(child.stderr!, STDERR_DRAIN_MS, () => {
        this.onExit(sandbox, code, signal);
        void sandbox.cgroup?.remove();
      });
    });
    if (child.pid !== undefined) {
      liveGroups.set(child.pid, sandbox.cgroup);
      installExitHook();
    }
  }

  /** Whether the runtime's file is an executable file; if not, the environment has failed as a spawn of it would. */
  private runnable(sandbox: Sandbox): boolean {
    try {
      if (!statSync(this.command.file).isFile()) throw Object.assign(new Error('not a file'), { code: 'EACCES' });
      accessSync(this.command.file, constants.X_OK);
      return true;
    } catch (error) {
      this.onSpawnError(sandbox, error as NodeJS.ErrnoException);
      return false;
    }
  }

  /** The sandboxed form of the command, with the cgroups it joins; undefined when it cannot start (the environment has failed). */
  private sandboxCommand(sandbox: Sandbox): RuntimeCommand | undefined {
    let cgroup: EnvironmentCgroup;
    try {
      cgroup = createEnvironmentCgroup(this.identity.memorySize);
    } catch (error) {
      this.fail(sandbox, (requestId) => platformErrors.invalidEntrypoint(requestId, `cannot create the sandbox's cgroups: ${(error as Error).message}`));
      return undefined;
    }
    sandbox.cgroup = cgroup;
    const { bwrap, runtimeFolders, tmpBytes, nodeModules } = this.sandboxOptions!;
    return sandboxedCommand(this.command, { bwrap, runtimeFolders, cgroupProcs: cgroup.procsFiles, tmpBytes, network: sandbox.network, nodeModules });
  }

  /** Without a network, serverfull's endpoint is where the forwarder serves it; an endpoint the function's configuration sets stays. */
  private isolatedEndpoint(sandbox: Sandbox): { AWS_ENDPOINT_URL_LAMBDA?: string; AWS_ENDPOINT_URL_SSM?: string; AWS_ENDPOINT_URL_SNS?: string } {
    const served = sandbox.network?.lambdaEndpoint;
    if (served === undefined) return {};
    const env = this.command.env;
    // The Parameter Store and topics share the Lambda APIs' port, hence their forward.
    return {
      ...(env.AWS_ENDPOINT_URL_LAMBDA === this.lambdaEndpoint ? { AWS_ENDPOINT_URL_LAMBDA: served } : {}),
      ...(env.AWS_ENDPOINT_URL_SSM === this.lambdaEndpoint ? { AWS_ENDPOINT_URL_SSM: served } : {}),
      ...(env.AWS_ENDPOINT_URL_SNS === this.lambdaEndpoint ? { AWS_ENDPOINT_URL_SNS: served } : {}),
    };
  }

  private readonly line = (level: FunctionLogLevel, message: string, raw: string): void => {
    const target = this.logTarget;
    if (target) target(level, message, raw);
    else if (this.early.length < MAX_EARLY_LINES) this.early.push([level, message, raw]);
  };

  /** The end of a line not yet written belongs to the invocation that is ending. */
  private flushOutput(sandbox: Sandbox): void {
    sandbox.stdout.flush();
    sandbox.stderr.flush();
  }

  private onAnswer(requestId: string, payload: string, functionError: string | undefined): void {
    const pending = this.pending;
    if (!pending || pending.request.requestId !== requestId) return;
    this.pending = undefined;
    const outcome: InvocationOutcome = {
      payload,
      functionError,
      durationMs: performance.now() - this.deliveredAt,
      initDurationMs: this.takeInitDuration(),
      memoryUsedMB: pending.request.report ? this.sandbox.peakMemory.value : 0,
      reusable: true,
    };
    // Output written before the answer is already in the pipe: one turn of the event loop reads it into this log.
    setImmediate(() => {
      this.flushOutput(this.sandbox);
      if (this.logTarget === pending.log) this.logTarget = undefined;
      pending.done(outcome);
    });
  }

  /**
   * The runtime asked for its next event and none is there: as Lambda does, the environment is frozen until
   * `invoke` thaws it, so that what a handler left running (timers, background work) waits for the next
   * invocation. Frozen once `next` is parked on the server side, rather than on the response: the runtime has
   * finished its own work too, and nothing it waits for can be held up by the freeze; and only after
   * `FREEZE_GRACE_MS` without an event, so that an environment reused at once under load is not stopped for nothing.
   */
  private onWaiting(sandbox: Sandbox): void {
    if (!this.sandboxOptions?.freeze || sandbox.cgroup === undefined || sandbox !== this.sandbox || !this.alive || sandbox.frozen) return;
    cancelFreeze(sandbox);
    sandbox.freezeTimer = setTimeout(this.freezeIdle, FREEZE_GRACE_MS, sandbox);
    // Like the runtime process itself, a pending freeze does not keep the server alive.
    sandbox.freezeTimer.unref();
  }

  /** The grace is over and no event came: the environment is idle, and frozen until the next `invoke`. */
  private readonly freezeIdle = (sandbox: Sandbox): void => {
    sandbox.freezeTimer = undefined;
    if (sandbox !== this.sandbox || !this.alive || sandbox.frozen || sandbox.cgroup === undefined || this.pending !== undefined) return;
    try {
      sandbox.cgroup.freeze();
      sandbox.frozen = true;
    } catch {
      // The group is gone (the runtime is exiting): nothing to freeze.
    }
  };

  private onInitError(sandbox: Sandbox, payload: string, errorType: string): void {
    this.initDurationMs = performance.now() - sandbox.startedAt;
    // AWS resets an environment whose init failed: the next invocation starts a new one.
    this.alive = false;
    const pending = this.pending;
    if (!pending) return;
    this.pending = undefined;
    const outcome: InvocationOutcome = { payload, functionError: errorType, initDurationMs: this.takeInitDuration(), memoryUsedMB: 0, reusable: false, failure: 'init' };
    setImmediate(() => {
      this.flushOutput(sandbox);
      pending.done(outcome);
    });
  }

  private onSpawnError(sandbox: Sandbox, error: NodeJS.ErrnoException): void {
    const { file } = this.command;
    const reason = error.code === 'ENOENT'
      ? `Couldn't find valid bootstrap(s): [${file}]`
      : `fork/exec ${file}: ${error.code === 'EACCES' ? 'permission denied' : error.code === 'ENOEXEC' ? 'exec format error' : error.message}`;
    this.fail(sandbox, (requestId) => platformErrors.invalidEntrypoint(requestId, reason));
  }

  private onExit(sandbox: Sandbox, code: number | null, signal: NodeJS.Signals | null): void {
    const pending = this.pending;
    if (sandbox === this.sandbox && this.alive && pending && sandbox.ready && !sandbox.api.isInvoking(pending.request.requestId)) {
      // The runtime exited between invocations (after an uncaught error, say) before it took this one:
      // as Lambda does, a fresh runtime starts and takes it.
      closeApis(sandbox);
      this.sandbox = this.startSandbox();
      this.sandbox.api.deliver(pending.request);
      return;
    }
    const { outOfMemory } = sandbox;
    this.fail(sandbox, (requestId) => outOfMemory ? platformErrors.outOfMemory(requestId)
      : signal ? platformErrors.signal(requestId, signal) : platformErrors.exit(requestId, code ?? 0), outOfMemory);
  }

  /** Ends the environment; an invocation in flight fails with the error `describe` words. */
  private fail(sandbox: Sandbox, describe: (requestId: string) => FunctionErrorPayload, outOfMemory = false): void {
    closeApis(sandbox);
    if (sandbox !== this.sandbox) return;
    this.alive = false;
    const pending = this.pending;
    if (!pending) return;
    this.pending = undefined;
    const memoryUsedMB = outOfMemory ? this.identity.memorySize : 0;
    // Let the dying runtime's last output reach the log first.
    setImmediate(() => {
      this.flushOutput(sandbox);
      this.logTarget = undefined;
      pending.done(platformFailure(describe(pending.request.requestId), { memoryUsedMB }));
    });
  }

  /** The init duration, reported once: on the invocation that waited for the init. */
  private takeInitDuration(): number | undefined {
    const init = this.initDurationMs;
    this.initDurationMs = undefined;
    return init;
  }
}

/** Peak resident memory of the runtime process (Linux), the REPORT line's "Max Memory Used": of its cgroup when sandboxed. */
function readPeakMemoryMB(sandbox: Sandbox): number {
  return sandbox.cgroup ? sandbox.cgroup.peakMemoryMB : sandbox.processPeak?.megabytes ?? 0;
}

/** Stops serving the sandbox's Runtime API, and its sockets when it has no network. */
function closeApis(sandbox: Sandbox): void {
  sandbox.api.close();
  sandbox.network?.close();
}

/** Drops a freeze not yet made: an event came within the grace. */
function cancelFreeze(sandbox: Sandbox): void {
  if (sandbox.freezeTimer === undefined) return;
  clearTimeout(sandbox.freezeTimer);
  sandbox.freezeTimer = undefined;
}

/** Lets a frozen environment's processes run again. */
function thaw(sandbox: Sandbox): void {
  if (!sandbox.frozen) return;
  sandbox.frozen = false;
  sandbox.cgroup?.thaw();
}

function killGroup(sandbox: Sandbox): void {
  // Whatever left the process group (setsid, a double fork) is still in the sandbox's cgroup; killing it thaws it
  // (a process frozen by the v1 freezer dies of SIGKILL only once thawed; v2's `cgroup.kill` kills frozen ones).
  cancelFreeze(sandbox);
  sandbox.frozen = false;
  sandbox.cgroup?.killAll();
  sandbox.processPeak?.close();
  const pid = sandbox.child?.pid;
  if (pid === undefined) return;
  liveGroups.delete(pid);
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const [pid, cgroup] of liveGroups) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
      // The kill pending, a frozen runtime dies as soon as it is thawed.
      cgroup?.thaw();
    }
  });
}

/** Calls `then` once `stream` has ended, or after `boundMs`, whichever comes first. */
function whenEnded(stream: NodeJS.ReadableStream & { readonly readableEnded: boolean }, boundMs: number, then: () => void): void {
  if (stream.readableEnded) return then();
  let called = false;
  const once = () => {
    if (called) return;
    called = true;
    clearTimeout(timer);
    then();
  };
  const timer = setTimeout(once, boundMs);
  timer.unref();
  stream.once('end', once).once('close', once);
}
