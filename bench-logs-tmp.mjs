import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import autocannon from 'autocannon';
const start = (port, extra) => new Promise((resolve) => {
  const dataDir = mkdtempSync('/tmp/sf-bench-');
  const child = spawn(process.execPath, ['bin/serverfull.js', 'start', '--config', 'bench/fixtures/serverfull.json', '--isolation', 'inline', '--port', String(port), '--log-level', 'silent', '--data-dir', dataDir, ...extra], { stdio: 'ignore' });
  const poll = async () => { try { await fetch(`http://127.0.0.1:${port}/healthcheck`); resolve(child); } catch { setTimeout(poll, 100); } };
  poll();
});
const round = (port) => new Promise((resolve) => autocannon({ url: `http://127.0.0.1:${port}/2015-03-31/functions/echo/invocations`, method: 'POST', body: '{"name":"bench","n":1}', connections: 32, duration: 6 }, (e, r) => resolve(r.requests.average)));
const on = await start(18081, []);
const off = await start(18082, ['--log-max-bytes', '0']);
await round(18081); await round(18082); // warm-up
const results = { on: [], off: [] };
for (let i = 0; i < 4; i++) {
  results.on.push(await round(18081));
  results.off.push(await round(18082));
}
console.log(JSON.stringify(results));
const mean = (a) => a.reduce((x, y) => x + y, 0) / a.length;
console.log('stored logs on:', mean(results.on).toFixed(0), 'req/s; off:', mean(results.off).toFixed(0), 'req/s; ratio', (mean(results.on) / mean(results.off)).toFixed(3));
on.kill(); off.kill();
