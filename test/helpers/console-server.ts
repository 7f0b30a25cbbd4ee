/**
 * @module test/helpers/console-server
 * The server the browser tests open the web console on: the fixture functions the console's pages
 * exercise (a plain echo, one that logs, and a pair that call each other for a trace), auth off.
 */
import { serve, type RunningServer } from '../../src/index.js';
import { FIXTURES, tempDataDir } from './fixture-server.js';

/** Markup a function's output may carry: the console must show it as text, never run it. */
export const HOSTILE_MARKUP = '<img src=x onerror="window.__pwned=1">';

/** Starts a server on free ports with the functions `echo`, `logs`, `a` and `b`, no auth. */
export function serveConsoleFixtures(): Promise<RunningServer> {
  return serve({
    port: 0, httpPort: 0, logLevel: 'silent', env: {}, dataDir: tempDataDir(), root: FIXTURES, isolation: 'inline',
    functions: {
      echo: { handler: 'functions/echo.handler', timeout: 30 },
      logs: { handler: 'functions/logs.handler', timeout: 30 },
      a: { handler: 'functions/trace-chain.handler', timeout: 30 },
      b: { handler: 'functions/trace-chain.handler', timeout: 30 },
    },
  });
}
