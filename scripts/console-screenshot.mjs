// Saves docs/console.png: the web console over the example functions after a few invocations.
// Usage (after `npm run build`): node scripts/console-screenshot.mjs [/usr/bin/chromium]
import { fileURLToPath } from 'node:url';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { serve } from '../dist/src/index.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const dataDir = mkdtempSync(join(tmpdir(), 'serverfull-screenshot-'));
const server = await serve({ config: join(root, 'examples/serverfull.json'), port: 0, httpPort: 0, logLevel: 'silent', dataDir, isolation: 'inline' });
const browser = await chromium.launch({ executablePath: process.argv[2] ?? '/usr/bin/chromium', args: ['--no-sandbox'] });
try {
  const invoke = (name, event) => fetch(`${server.url}/2015-03-31/functions/${name}/invocations`, { method: 'POST', body: JSON.stringify(event) });
  for (let i = 0; i < 5; i++) await invoke('hello', { name: `visitor ${i}` });
  await invoke('fail', {});
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await page.goto(`${server.url}/console`);
  await page.click('#function-list button[data-function="hello"]');
  await page.waitForFunction(() => Number(document.querySelector('svg[data-metric="invocations"]')?.getAttribute('data-points')) > 0);
  await page.waitForSelector('#invocations tbody tr:nth-child(6)');
  await page.screenshot({ path: join(root, 'docs/console.png'), fullPage: false });
  console.log('saved docs/console.png');
} finally {
  await browser.close();
  await server.close();
  rmSync(dataDir, { recursive: true, force: true });
}
