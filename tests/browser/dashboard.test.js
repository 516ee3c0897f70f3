// SPDX-License-Identifier: MIT
// The dashboard in a real browser: Debian's Chromium, headless, driven by
// playwright-core (tests/browser/node_modules, installed by scripts/deps.sh
// from package-lock.json). It starts the dashboard itself (--test, a free
// port), then checks, each with a deadline:
//   1. the page connects (SSE and WebSocket) and draws what arrives;
//   2. a burst of 10,000 numbered events arrives complete and in order over
//      SSE and over the WebSocket, with no gap in the event ids;
//   3. a rate command sent from the page's form over the WebSocket reaches
//      the sensor: the server confirms it and the measured rate follows;
//   4. with the server's side of the SSE connection shut down, the page
//      reconnects with Last-Event-ID and gets every event it missed (no id
//      gap, no rill-gap notice), including a burst sent while it was away;
//      the same for its WebSocket (the hub resumes it after last_event_id);
//   5. a screenshot (dashboard.png in the output directory);
//   6. SIGTERM stops the server gracefully (exit 0).
// Usage: node dashboard.test.js <dashboard binary> <output dir>
// Exit: 0 passed, 1 failed, 77 skipped (no Chromium: the only skip).
'use strict';
const { spawn } = require('child_process');
const fs = require('fs');
const http = require('http');
const path = require('path');

const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const TOTAL_MS = Number(process.env.BROWSER_TEST_TIMEOUT_MS || 150000);
const STEP_MS = Number(process.env.BROWSER_STEP_TIMEOUT_MS || 60000);
const BURST = 10000;

const [bin, outDir] = process.argv.slice(2);
if (!bin || !outDir) {
  console.error('usage: node dashboard.test.js <dashboard binary> <output dir>');
  process.exit(2);
}
if (!fs.existsSync(CHROMIUM)) {
  console.log('skipped: ' + CHROMIUM + ' is not installed (scripts/deps.sh test ' +
    'installs Debian\'s chromium; it could not be installed here)');
  process.exit(77);
}
let chromium;
try {
  ({ chromium } = require('playwright-core'));
} catch (e) {
  console.log('FAIL: playwright-core is not installed in tests/browser/node_modules: ' +
    'run scripts/deps.sh test');
  process.exit(1);
}

let server, browser, serverLog = '', failures = 0, finished = false;
const t0 = Date.now();
const secs = () => ((Date.now() - t0) / 1000).toFixed(1) + 's';
const ok = (what) => console.log('ok: ' + what + ' [' + secs() + ']');
function fail(what) {
  failures++;
  console.log('FAIL: ' + what + ' [' + secs() + ']');
}

async function finish(code) {
  if (finished) return;
  finished = true;
  if (browser) await browser.close().catch(() => {});
  if (server && server.exitCode === null) server.kill('SIGKILL');
  if (code !== 0) console.log('--- server output ---\n' + serverLog.slice(-3000));
  console.log(code === 0 ? 'browser test passed' : 'browser test FAILED');
  process.exit(code);
}

// Everything is bounded: the whole run, and each wait.
setTimeout(() => {
  fail('the whole test took more than ' + TOTAL_MS / 1000 + ' s');
  finish(1);
}, TOTAL_MS).unref();

function startServer() {
  return new Promise((resolve, reject) => {
    server = spawn(bin, ['--test', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const timer = setTimeout(() => reject(new Error('no port printed in 30 s')), 30000);
    server.stdout.on('data', (d) => {
      serverLog += d;
      const m = /http:\/\/127\.0\.0\.1:(\d+)\//.exec(serverLog);
      if (m) { clearTimeout(timer); resolve(Number(m[1])); }
    });
    server.stderr.on('data', (d) => { serverLog += d; });
    server.on('exit', (code, sig) => {
      clearTimeout(timer);
      reject(new Error('the server exited (' + (sig || code) + ')'));
    });
  });
}

function getJson(url) {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { timeout: 10000 }, (res) => {
      let body = '';
      res.on('data', (d) => { body += d; });
      res.on('end', () => {
        try { resolve(JSON.parse(body)); } catch (e) { reject(e); }
      });
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

// Wait until fn(arg) is true in the page; on timeout, fail with what the
// page knows.
async function until(page, what, fn, arg) {
  try {
    await page.waitForFunction(fn, arg, { timeout: STEP_MS, polling: 50 });
    return true;
  } catch (e) {
    const state = await page.evaluate(() => JSON.stringify({
      sse: window.dash.sse, ws: { ...window.dash.ws, replies: window.dash.ws.replies.slice(-5) },
      stats: window.dash.stats,
    })).catch(() => '(page gone)');
    fail(what + ': not within ' + STEP_MS / 1000 + ' s; page state: ' + state);
    return false;
  }
}

function checkBurst(side, name, b, n) {
  const got = side.bursts[b];
  if (got && got.received === n && got.disorder === 0 && got.next === n + 1)
    ok(name + ': burst ' + b + ': ' + n + ' events, in order');
  else
    fail(name + ': burst ' + b + ': ' + JSON.stringify(got));
}

async function main() {
  const port = await startServer();
  const base = 'http://127.0.0.1:' + port + '/';
  ok('server on ' + base);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    timeout: 30000,
    args: ['--no-sandbox', '--headless', '--disable-gpu', '--disable-quic',
      '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
  });
  const page = await browser.newPage({ viewport: { width: 1280, height: 760 } });
  page.setDefaultTimeout(STEP_MS);
  page.on('pageerror', (e) => fail('page error: ' + e.message));
  page.on('console', (m) => { if (m.type() === 'error') fail('console: ' + m.text()); });
  await page.goto(base);

  // 1. connected, drawing
  if (!await until(page, 'the page connects',
    () => window.dash.sse.open && window.dash.ws.open && window.dash.stats &&
      window.dash.test && window.dash.series.some((a) => a.length > 0))) return;
  ok('page connected over SSE and WebSocket, stats and readings arriving');

  // 2. 10,000 events in order over both
  let start = Date.now();
  await page.evaluate((n) => window.dash.send({ cmd: 'burst', n }), BURST);
  if (!await until(page, BURST + ' events over SSE and WebSocket',
    (n) => [window.dash.sse, window.dash.ws].every((s) => s.bursts[1] &&
      s.bursts[1].received >= n), BURST)) return;
  const burstMs = Date.now() - start;
  let st = await page.evaluate(() => ({ sse: window.dash.sse, ws: window.dash.ws }));
  checkBurst(st.sse, 'SSE', 1, BURST);
  checkBurst(st.ws, 'WebSocket', 1, BURST);
  if (st.sse.gaps || st.ws.gaps || st.sse.rillGaps)
    fail('event id gaps: SSE ' + JSON.stringify(st.sse.gapList) + ', WS ' + st.ws.gaps +
      ', rill-gap ' + st.sse.rillGaps);
  else
    ok('no id gap: SSE ' + st.sse.events + ' events (last id ' + st.sse.lastId +
      '), WebSocket ' + st.ws.events);
  console.log('measured: ' + BURST + ' events to both transports in ' + burstMs + ' ms (' +
    Math.round(BURST / burstMs * 1000) + ' events/s each)');

  // 3. a command from the page's form changes a sensor's rate
  const before = await page.evaluate(() => window.dash.stats.sensors[2].rate);
  const rate = before === 250 ? 300 : 250;
  await page.selectOption('#rate-sensor', '2');
  await page.fill('#rate-hz', String(rate));
  await page.click('#rate-set');
  if (!await until(page, 'the rate command is acknowledged',
    (r) => window.dash.ws.replies.some((m) => m.type === 'ack' && m.cmd === 'rate' &&
      m.sensor === 2 && m.hz === r), rate)) return;
  ok('rate command acknowledged over WebSocket');
  start = Date.now();
  if (!await until(page, 'sensor 2 runs at the new rate',
    (r) => { const s = window.dash.stats.sensors[2]; return s.rate === r && s.measured >= r * 0.5; },
    rate)) return;
  const measured = await page.evaluate(() => window.dash.stats.sensors[2].measured);
  const tookMs = Date.now() - start;
  // The page redraws on its next animation frame.
  if (!await until(page, 'the page shows the new rate',
    (r) => document.getElementById('rate-2').textContent.includes('rate ' + r + '/s'),
    rate)) return;
  ok('sensor 2: ' + before + '/s -> ' + rate + '/s, measured ' + measured + '/s after ' +
    tookMs + ' ms; the page shows "' + await page.textContent('#rate-2') + '"');

  // 4. the server drops the SSE connection; the page resumes without a gap
  const opens = await page.evaluate(() => window.dash.sse.opens);
  // The server drops the connection, then publishes a burst of 2,000
  // while the page waits out its reconnection delay (retry: 500 ms).
  await page.evaluate(() => window.dash.send({ cmd: 'drop_sse', then_burst: 2000 }));
  if (!await until(page, 'drop_sse is acknowledged',
    () => window.dash.ws.replies.some((m) => m.cmd === 'drop_sse' && m.dropped >= 1))) return;
  if (!await until(page, 'SSE reconnects and gets the burst',
    (o) => window.dash.sse.opens > o && window.dash.sse.bursts[2] &&
      window.dash.sse.bursts[2].received >= 2000, opens)) return;
  st = await page.evaluate(() => ({ sse: window.dash.sse, ws: window.dash.ws }));
  checkBurst(st.sse, 'SSE after the drop', 2, 2000);
  const resume = st.sse.resumes[st.sse.resumes.length - 1];
  if (st.sse.gaps || st.sse.rillGaps)
    fail('gap after the reconnection: ' + JSON.stringify(st.sse.gapList) +
      ', rill-gap ' + st.sse.rillGaps);
  else if (!(resume && resume.missed > 0))
    fail('no event was published while SSE was down: ' + JSON.stringify(resume));
  else
    ok('SSE resumed after id ' + resume.lastId + ': the ' + resume.missed +
      ' events published meanwhile came from the replay ring, no gap');
  // The same for the WebSocket: the page comes back with ?last_event_id=.
  const wsOpens = await page.evaluate(() => window.dash.ws.opens);
  await page.evaluate(() => window.dash.send({ cmd: 'drop_ws', then_burst: 2000 }));
  if (!await until(page, 'the WebSocket reconnects and gets the burst',
    (o) => window.dash.ws.opens > o && window.dash.ws.bursts[3] &&
      window.dash.ws.bursts[3].received >= 2000 &&
      window.dash.ws.replies.some((m) => m.cmd === 'drop_ws'), wsOpens)) return;
  st = await page.evaluate(() => ({ ws: window.dash.ws }));
  checkBurst(st.ws, 'WebSocket after the drop', 3, 2000);
  if (st.ws.gaps || st.ws.rillGaps)
    fail('WebSocket gap after the reconnection: ' + JSON.stringify(st.ws.gapList) +
      ', rill-gap ' + st.ws.rillGaps);
  else
    ok('WebSocket resumed without a gap (' + st.ws.events + ' events, last id ' +
      st.ws.lastId + ')');
  const stats = await getJson(base + 'stats');
  if (stats.sse_resumes >= 1 && stats.ws_resumes >= 1)
    ok('the server saw ' + stats.sse_resumes + ' SSE request(s) with Last-Event-ID and ' +
      stats.ws_resumes + ' WebSocket(s) with last_event_id');
  else
    fail('the server saw no resume: ' + JSON.stringify(stats));

  // 5. screenshot, once the charts hold a few seconds of readings
  await until(page, 'charts filled', () => window.dash.series.every((a) => a.length >= 20));
  // SCREENSHOT_AFTER_MS: let the charts fill first (for docs/dashboard.png).
  await page.waitForTimeout(Number(process.env.SCREENSHOT_AFTER_MS || 0));
  fs.mkdirSync(outDir, { recursive: true });
  const shot = path.join(outDir, 'dashboard.png');
  await page.screenshot({ path: shot });
  ok('screenshot ' + shot + ' (' + fs.statSync(shot).size + ' bytes)');
  await browser.close();
  browser = null;

  // 6. graceful shutdown
  server.removeAllListeners('exit');
  const exited = new Promise((resolve) => server.once('exit', (code, sig) => resolve(sig || code)));
  server.kill('SIGTERM');
  const code = await Promise.race([exited,
    new Promise((resolve) => setTimeout(() => resolve('no exit in 20 s'), 20000))]);
  if (code === 0) ok('SIGTERM: the server drained and exited 0');
  else fail('SIGTERM: the server ended with ' + code);
}

main().then(() => finish(failures ? 1 : 0), (e) => {
  fail(e && e.stack ? e.stack : String(e));
  finish(1);
});
