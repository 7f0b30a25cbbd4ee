/**
 * @module bench/deployment
 * Deploying as a client feels it: a CreateFunction of a small zip, then the first Invoke of the
 * new function, each from sending the request until its whole response has arrived.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { createZip } from '../src/deploy/zip-archive.js';
import { COLD_START_GAP_MS } from './cold-start.js';
import { postEcho } from './echo-response.js';
import { REPO_ROOT } from './repo-root.js';

/** CreateFunction's path; the other operations on functions are below it. */
export const FUNCTIONS_PATH = '/2015-03-31/functions';

/** The Invoke path of `functionName`, which may be qualified as `name:alias`. */
export function invokePath(functionName: string): string {
  return `${FUNCTIONS_PATH}/${functionName}/invocations`;
}

/** Where a variant deploys to and invokes from. */
export interface DeployTarget {
  /** `http://127.0.0.1:PORT`. */
  readonly url: string;
  /** Path that takes the CreateFunction request body. */
  readonly createPath: string;
  /** URL that invokes the function deployed as `name`. */
  invokeUrl(name: string): string;
  /** Untimed, after each deployment: so that deployed functions do not pile up in the server. */
  remove?(name: string): Promise<void>;
}

/** One deployment's timings. */
export interface DeploySample {
  readonly createMs: number;
  readonly invokeMs: number;
}

/** Every deployment of a run, the unmeasured first one apart, one list per target. */
export interface DeployResults {
  readonly zipBytes: number;
  readonly first: DeploySample[];
  readonly samples: DeploySample[][];
}

/** Sends a management API request to `${url}${path}`; throws unless it answers `expectedStatus`. */
export async function callManagementApi(url: string, method: string, path: string, body: unknown, expectedStatus: number): Promise<void> {
  const response = await fetch(url + path, {
    method,
    headers: { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  const text = await response.text();
  if (response.status !== expectedStatus) throw new Error(`${method} ${url}${path} answered ${response.status}: ${text.slice(0, 500)}`);
}

/** serverfull's own management API: CreateFunction, Invoke and DeleteFunction of `name`. */
export function serverfullDeployTarget(url: string): DeployTarget {
  return {
    url,
    createPath: FUNCTIONS_PATH,
    invokeUrl: (name) => url + invokePath(name),
    remove: (name) => callManagementApi(url, 'DELETE', `${FUNCTIONS_PATH}/${name}`, undefined, 204),
  };
}

/** The bare node:http baseline: `POST /deploy` stores the zip of a CreateFunction request; its echo is always deployed. */
export function baselineDeployTarget(url: string): DeployTarget {
  return { url, createPath: '/deploy', invokeUrl: () => `${url}/` };
}

/**
 * The echo handler as `index.mjs`, zipped with the project's own packer; `tag` goes into a comment
 * line so every package has its own CodeSha256 (serverfull skips unpacking a package it stores already).
 */
export async function echoZip(tag: string): Promise<Buffer> {
  const directory = await mkdtemp(join(tmpdir(), 'serverfull-bench-zip-'));
  try {
    const source = await readFile(join(REPO_ROOT, 'bench/fixtures/echo.mjs'), 'utf8');
    await writeFile(join(directory, 'index.mjs'), `${source}// ${tag}\n`);
    return await createZip(directory);
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
}

/** The CreateFunction request for `name` with `zip`, as the AWS SDK would send it. */
export function createFunctionRequest(name: string, zip: Buffer): string {
  return JSON.stringify({ FunctionName: name, Runtime: 'nodejs20.x', Handler: 'index.handler', Code: { ZipFile: zip.toString('base64') } });
}

/** Deploys the echo as `name` on the serverfull at `url`, publishes it as version 1 and points alias `alias` at that version. */
export async function deployWithAlias(url: string, name: string, alias: string): Promise<void> {
  await callManagementApi(url, 'POST', FUNCTIONS_PATH, createFunctionRequest(name, await echoZip(name)), 201);
  await callManagementApi(url, 'POST', `${FUNCTIONS_PATH}/${name}/versions`, {}, 201);
  await callManagementApi(url, 'POST', `${FUNCTIONS_PATH}/${name}/aliases`, { Name: alias, FunctionVersion: '1' }, 201);
}

/** Deploys `zip` as `name` on `target` and invokes it once; milliseconds of each step. */
async function deployOnce(target: DeployTarget, name: string, request: string): Promise<DeploySample> {
  const created = performance.now();
  await callManagementApi(target.url, 'POST', target.createPath, request, 201);
  const invoked = performance.now();
  await postEcho(target.invokeUrl(name));
  const sample = { createMs: invoked - created, invokeMs: performance.now() - invoked };
  await target.remove?.(name);
  return sample;
}

/**
 * `count` deployments of a new function with a new package to each target, the targets taking
 * turns, `COLD_START_GAP_MS` apart as cold starts are (serverfull refills its spare threads between
 * them). One unmeasured deployment comes first: it warms up the code paths, and in serverfull it
 * also starts the first spare threads of the deployed functions' memory size.
 */
export async function measureDeployments(targets: readonly DeployTarget[], count: number): Promise<DeployResults> {
  const first: DeploySample[] = [];
  const samples: DeploySample[][] = targets.map(() => []);
  let zipBytes = 0;
  for (let index = 0; index <= count; index++) {
    const name = `deploy-echo-${index}`;
    const zip = await echoZip(`deployment ${index}`);
    zipBytes = zip.length;
    const request = createFunctionRequest(name, zip);
    for (const [target, deployTarget] of targets.entries()) {
      await sleep(COLD_START_GAP_MS);
      const sample = await deployOnce(deployTarget, name, request);
      (index === 0 ? first : samples[target]!).push(sample);
    }
  }
  return { zipBytes, first, samples };
}
