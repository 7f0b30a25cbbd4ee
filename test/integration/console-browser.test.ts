/**
 * The web console in a real browser: Debian's `chromium`, headless, driven by playwright-core.
 * The page loads without console errors, lists functions, test-invokes (showing hostile text as
 * text), charts invocations, lists them with their logs, draws a trace, and logs in when auth is on.
 * CI installs chromium; on a developer machine without it the test is skipped, in CI it must run.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { writeKeysFile } from '../../src/auth/keys-file.js';
import { serve, type RunningServer } from '../../src/index.js';
import { serveConsoleFixtures, HOSTILE_MARKUP as HOSTILE } from '../helpers/console-server.js';
import { FIXTURES } from '../helpers/fixture-server.js';

// The functions passed to the page run in the browser; the project compiles without the DOM's types.
declare const document: { querySelector(selector: string): { textContent: string | null; getAttribute(name: string): string | null } | null; cookie: string };
declare const window: Record<string, unknown>;

const CHROMIUM = '/usr/bin/chromium';
const available = existsSync(CHROMIUM);
if (!available && process.env.CI) throw new Error(`${CHROMIUM} is missing: .ci/run installs Debian's chromium`);

/** A new page whose console errors and uncaught exceptions are collected in `errors`. */
async function watchedPage(browser: Browser, errors: string[]): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  // Waits are for events; this only bounds them, generously, for a browser beside the whole suite on 2 cores.
  page.setDefaultTimeout(120_000);
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  page.on('pageerror', (error) => errors.push(String(error)));
  return page;
}

/** Test-invokes the selected function from the form; resolves with the request id the page shows. */
async function testInvoke(page: Page, payload: string): Promise<string> {
  const before = await page.getAttribute('#invoke-status', 'data-request-id');
  await page.fill('#invoke-payload', payload);
  await page.click('#invoke-button');
  await page.waitForFunction((previous) => {
    const status = document.querySelector('#invoke-status');
    return status?.getAttribute('data-request-id') && status.getAttribute('data-request-id') !== previous;
  }, before);
  return (await page.getAttribute('#invoke-status', 'data-request-id'))!;
}

describe('console in Chromium', { skip: available ? false : `${CHROMIUM} not installed (apt-get install chromium)` }, () => {
  let browser: Browser;
  before(async () => {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  });
  after(() => browser?.close());

  describe('auth off', () => {
    let server: RunningServer;
    let page: Page;
    const errors: string[] = [];
    before(async () => {
      server = await serveConsoleFixtures();
      page = await watchedPage(browser, errors);
    });
    after(async () => {
      await page?.close();
      await server.close();
    });

    it('loads with the functions listed and no console errors', async () => {
      await page.goto(`${server.url}/console`);
      await page.waitForSelector('#function-list button[data-function="echo"]');
      assert.deepEqual(await page.$$eval('#function-list button', (buttons) => buttons.map((b) => b.textContent)), ['a', 'b', 'echo', 'logs']);
      assert.equal(await page.textContent('#function-name'), 'a');
      assert.deepEqual(errors, []);
    });

    it('test-invokes a function and shows its result and log tail as text', async () => {
      await page.click('#function-list button[data-function="logs"]');
      await page.waitForFunction(() => document.querySelector('#function-name')?.textContent === 'logs');
      await testInvoke(page, JSON.stringify({ who: HOSTILE }));
      assert.equal(await page.getAttribute('#invoke-status', 'data-outcome'), 'success');
      assert.equal(await page.textContent('#invoke-result'), '"logged"');
      assert.ok((await page.textContent('#invoke-log'))!.includes(`hello from ${HOSTILE}`));
      assert.equal(await page.$$eval('img', (images) => images.length), 0);
      assert.equal(await page.evaluate(() => window.__pwned), undefined);
      assert.deepEqual(errors, []);
    });

    it('charts invocations and lists them, each opening its log', async () => {
      await page.click('#function-list button[data-function="echo"]');
      await page.waitForFunction(() => document.querySelector('#function-name')?.textContent === 'echo');
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) ids.push(await testInvoke(page, JSON.stringify({ i })));
      await page.waitForFunction(() => Number(document.querySelector('svg[data-metric="invocations"]')?.getAttribute('data-points')) > 0);
      assert.ok(await page.$$eval('svg[data-metric="invocations"] circle', (dots) => dots.length) > 0);
      assert.ok(Number(await page.getAttribute('svg[data-metric="duration"]', 'data-points')) > 0);
      for (const id of ids) await page.waitForSelector(`#invocations tr[data-request-id="${id}"]`);
      const cells = await page.$$eval(`#invocations tr[data-request-id="${ids[0]}"] td`, (tds) => tds.map((td) => td.textContent));
      assert.equal(cells[1], 'echo');
      assert.equal(cells[3], 'success');
      await page.click(`#invocations tr[data-request-id="${ids[0]}"] button[data-log]`);
      await page.waitForFunction(() => /REPORT RequestId/.test(document.querySelector('#log')?.textContent ?? ''));
      assert.deepEqual(errors, []);
    });

    it('shows every invocation of a trace on a time line', async () => {
      await page.click('#function-list button[data-function="a"]');
      await page.waitForFunction(() => document.querySelector('#function-name')?.textContent === 'a');
      const id = await testInvoke(page, JSON.stringify({ next: ['b'] }));
      await page.click(`#invocations tr[data-request-id="${id}"] button[data-trace]`);
      await page.waitForSelector('#trace[data-invocations="2"]');
      assert.deepEqual(await page.$$eval('#trace rect', (bars) => bars.map((bar) => bar.getAttribute('data-function'))), ['a', 'b']);
      assert.deepEqual(errors, []);
    });
  });

  describe('auth on', () => {
    const ADMIN = { accessKeyId: 'AKIAADMIN00000000001', secretAccessKey: 'admin-secret-0000000000000000000000000' };
    let dir: string;
    let server: RunningServer;
    before(async () => {
      dir = mkdtempSync(join(tmpdir(), 'serverfull-console-browser-'));
      writeKeysFile(join(dir, 'keys.json'), {
        users: { admin: { accessKeys: [ADMIN], policy: { Statement: [{ Effect: 'Allow', Action: 'lambda:*', Resource: '*' }] } } },
      });
      server = await serve({
        auth: 'sigv4', port: 0, logLevel: 'silent', dataDir: join(dir, 'data'), env: {}, root: FIXTURES, isolation: 'inline', keys: join(dir, 'keys.json'),
        functions: { echo: { handler: 'functions/echo.handler', timeout: 30 } },
      });
    });
    after(async () => {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it('asks for an access key and secret, keeps an HttpOnly session, and logs out', async () => {
      const errors: string[] = [];
      const page = await watchedPage(browser, errors);
      try {
        await page.goto(`${server.url}/console`);
        await page.waitForSelector('#login-form', { state: 'visible' });
        await page.fill('#access-key-id', ADMIN.accessKeyId);
        await page.fill('#secret-access-key', 'not-the-secret-000000000');
        await page.click('#login-form button[type="submit"]');
        await page.waitForFunction(() => (document.querySelector('#login-error')?.textContent ?? '') !== '');
        await page.fill('#secret-access-key', ADMIN.secretAccessKey);
        await page.click('#login-form button[type="submit"]');
        await page.waitForSelector('#function-list button[data-function="echo"]');
        assert.equal(await page.textContent('#user'), 'Signed in as admin');
        const [cookie] = await page.context().cookies();
        assert.equal(cookie?.name, 'serverfull_console');
        assert.equal(cookie?.httpOnly, true);
        assert.equal(cookie?.sameSite, 'Strict');
        assert.equal(await page.evaluate(() => document.cookie), '');
        await testInvoke(page, '{"hello":"world"}');
        assert.equal(await page.getAttribute('#invoke-status', 'data-outcome'), 'success');
        await page.click('#logout');
        await page.waitForSelector('#login-form', { state: 'visible' });
        await page.reload();
        await page.waitForSelector('#login-form', { state: 'visible' });
        // The one expected error: the browser reports the refused login's 403.
        assert.deepEqual(errors.filter((e) => !/status of 403/.test(e)), []);
      } finally {
        await page.close();
      }
    });
  });
});
