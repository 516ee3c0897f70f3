// SPDX-License-Identifier: MIT
// The dashboard's page: readings and counters arrive over Server-Sent
// Events from the server's hub (/events); commands go out over a
// WebSocket to the same hub, which also carries every event (the browser
// test checks both). Plain JavaScript, charts drawn by hand on canvases:
// nothing to fetch from elsewhere.
//
// Every event has an id one above the last; the page counts any jump as a
// gap (window.dash.sse.gaps), so a reconnection that resumed with
// Last-Event-ID and got everything it missed shows 0.
'use strict';

const COLORS = ['#58a6ff', '#f0883e', '#5fcf80', '#d2a8ff', '#ffd33d', '#ff7b72'];
const WINDOW_MS = 30000; // the charts show the last 30 s
const $ = (id) => document.getElementById(id);

// Everything the page knows, also for the browser test.
const dash = {
  sensors: 0,
  series: [], // per sensor: [{t, v}] in time order
  stats: null,
  throughput: [], // the last 120 figures
  test: false,
  sse: { open: false, opens: 0, events: 0, lastId: 0, gaps: 0, gapList: [],
    rillGaps: 0, bursts: {}, resumes: [] },
  ws: { open: false, opens: 0, events: 0, lastId: 0, gaps: 0, gapList: [],
    rillGaps: 0, bursts: {}, replies: [] },
  send(cmd) {
    if (!ws || ws.readyState !== WebSocket.OPEN) return false;
    ws.send(JSON.stringify(cmd));
    return true;
  },
};
window.dash = dash;

// ---- events, from either transport ----

function trackBurst(side, ev) {
  let b = side.bursts[ev.burst];
  if (!b) b = side.bursts[ev.burst] = { n: ev.n, received: 0, next: 1, disorder: 0 };
  if (ev.seq !== b.next) b.disorder++;
  b.next = ev.seq + 1;
  b.received++;
}

function trackId(side, id) {
  if (side.lastId && id !== side.lastId + 1) {
    side.gaps++;
    if (side.gapList) side.gapList.push([side.lastId, id]);
  }
  side.lastId = id;
  side.events++;
}

function handle(ev, fromSse) {
  if (ev.type === 'readings') {
    if (!fromSse) return; // the charts follow the SSE stream
    for (const [s, t, v] of ev.points) addPoint(s, t, v);
  } else if (ev.type === 'stats') {
    if (!fromSse) return;
    dash.stats = ev;
    dash.test = ev.test;
    $('rate-hz').max = ev.max_rate;
    dash.throughput.push(ev.throughput);
    if (dash.throughput.length > 120) dash.throughput.shift();
    if (ev.sensors.length !== dash.sensors) setupSensors(ev.sensors.length);
  } else if (ev.type === 'burst') {
    trackBurst(fromSse ? dash.sse : dash.ws, ev);
  } else if ((ev.type === 'ack' || ev.type === 'refused') && !fromSse) {
    // The answer to a command (any page's: every page sees them).
    dash.ws.replies.push(ev);
    if (ev.type === 'refused')
      log('refused: ' + ev.error, true);
    else if (ev.cmd === 'rate')
      log('sensor ' + ev.sensor + ': rate set to ' + ev.hz + '/s');
    else if (ev.cmd === 'burst')
      log('burst of ' + ev.n + ' events: ' + ev.status);
    else if (ev.cmd === 'drop_sse' || ev.cmd === 'drop_ws')
      log('server dropped ' + ev.dropped + (ev.cmd === 'drop_ws' ? ' WebSocket' : ' SSE') +
        ' connection(s), then published ' + ev.burst + ' events');
  }
  dirty = true;
}

// ---- Server-Sent Events ----

let source;
function connectSse() {
  source = new EventSource('/events');
  source.onopen = () => {
    dash.sse.open = true;
    if (dash.sse.opens++) {
      // A reconnection: the browser sent Last-Event-ID: lastId. What the
      // WebSocket saw meanwhile was published while SSE was away.
      dash.sse.resumes.push({ lastId: dash.sse.lastId,
        missed: dash.ws.lastId - dash.sse.lastId });
      log('SSE: reconnected after event ' + dash.sse.lastId);
    }
    setState('sse-state', 'SSE: open', 'ok');
  };
  source.onerror = () => {
    // EventSource reconnects by itself, with Last-Event-ID.
    dash.sse.open = false;
    setState('sse-state', 'SSE: reconnecting', 'bad');
  };
  // (Not 'error': EventSource's own error event has that name.)
  for (const type of ['readings', 'stats', 'burst', 'ack', 'refused']) {
    source.addEventListener(type, (e) => {
      trackId(dash.sse, Number(e.lastEventId));
      handle(JSON.parse(e.data), true);
    });
  }
  // The server's notice that events were lost (a resume from too far back).
  source.addEventListener('rill-gap', (e) => {
    dash.sse.rillGaps++;
    log('SSE: missed ' + JSON.parse(e.data).missed + ' events', true);
  });
}

// ---- WebSocket ----

let ws;
function connectWs() {
  // The hub resumes a WebSocket after last_event_id, as Last-Event-ID
  // does for SSE: a reconnection misses nothing the ring still holds.
  ws = new WebSocket((location.protocol === 'https:' ? 'wss://' : 'ws://') +
    location.host + '/events' +
    (dash.ws.lastId ? '?last_event_id=' + dash.ws.lastId : ''));
  ws.onopen = () => {
    dash.ws.open = true;
    dash.ws.opens++;
    setState('ws-state', 'WebSocket: open', 'ok');
  };
  ws.onclose = (e) => {
    dash.ws.open = false;
    setState('ws-state', 'WebSocket: closed (' + e.code + '), retrying', 'bad');
    setTimeout(connectWs, 1000);
  };
  ws.onmessage = (e) => {
    const msg = JSON.parse(e.data);
    if (msg.type === 'rill-gap') { // the hub: events were lost
      dash.ws.rillGaps++;
      log('WebSocket: missed ' + msg.missed + ' events', true);
    } else {
      trackId(dash.ws, msg.id);
      handle(msg, false);
    }
  };
}

$('rate-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const cmd = { cmd: 'rate', sensor: Number($('rate-sensor').value),
    hz: Number($('rate-hz').value) };
  if (!dash.send(cmd)) log('not connected', true);
});

// ---- drawing ----

function setupSensors(n) {
  dash.sensors = n;
  const charts = $('charts');
  charts.textContent = '';
  const select = $('rate-sensor');
  select.textContent = '';
  for (let i = 0; i < n; i++) {
    dash.series[i] = dash.series[i] || [];
    const box = document.createElement('div');
    box.className = 'chart';
    box.innerHTML = '<h3>sensor ' + i + ' <span id="rate-' + i + '"></span></h3>' +
      '<canvas id="chart-' + i + '"></canvas>';
    charts.appendChild(box);
    const opt = document.createElement('option');
    opt.value = i;
    opt.textContent = i;
    select.appendChild(opt);
  }
}

function addPoint(s, t, v) {
  const a = dash.series[s];
  if (!a) return;
  // Batches from concurrent stores can arrive out of time order.
  let i = a.length;
  while (i > 0 && a[i - 1].t > t) i--;
  a.splice(i, 0, { t, v });
}

function latestTime() {
  let t = dash.stats ? dash.stats.t : 0;
  for (const a of dash.series) if (a && a.length) t = Math.max(t, a[a.length - 1].t);
  return t;
}

function fitCanvas(c) {
  const r = window.devicePixelRatio || 1;
  const w = Math.round(c.clientWidth * r), h = Math.round(c.clientHeight * r);
  if (c.width !== w || c.height !== h) { c.width = w; c.height = h; }
  const g = c.getContext('2d');
  g.setTransform(r, 0, 0, r, 0, 0);
  return [g, c.clientWidth, c.clientHeight];
}

function drawChart(i, now) {
  const c = $('chart-' + i);
  if (!c) return;
  const a = dash.series[i];
  while (a.length && a[0].t < now - WINDOW_MS) a.shift();
  const [g, w, h] = fitCanvas(c);
  g.clearRect(0, 0, w, h);
  const left = 38, bottom = 18, pw = w - left - 6, ph = h - bottom - 6;
  let lo = Infinity, hi = -Infinity;
  for (const p of a) { lo = Math.min(lo, p.v); hi = Math.max(hi, p.v); }
  if (!a.length) { lo = 0; hi = 1; }
  if (hi - lo < 1) { const m = (hi + lo) / 2; lo = m - 0.5; hi = m + 0.5; }
  const x = (t) => left + pw * (1 - (now - t) / WINDOW_MS);
  const y = (v) => 6 + ph * (1 - (v - lo) / (hi - lo));
  g.strokeStyle = '#2a313b';
  g.fillStyle = '#8893a0';
  g.font = '11px system-ui, sans-serif';
  g.lineWidth = 1;
  for (let k = 0; k <= 4; k++) { // value grid
    const v = lo + (hi - lo) * k / 4, yy = Math.round(y(v)) + 0.5;
    g.beginPath(); g.moveTo(left, yy); g.lineTo(left + pw, yy); g.stroke();
    g.fillText(v.toFixed(1), 2, yy + 4);
  }
  g.textAlign = 'center';
  for (let s = 5; s < WINDOW_MS / 1000; s += 5) // time ticks
    g.fillText('-' + s + ' s', x(now - s * 1000), h - 4);
  g.textAlign = 'right';
  g.fillText('now', left + pw, h - 4);
  g.textAlign = 'left';
  g.strokeStyle = COLORS[i % COLORS.length];
  g.lineWidth = 1.5;
  g.beginPath();
  a.forEach((p, k) => (k ? g.lineTo(x(p.t), y(p.v)) : g.moveTo(x(p.t), y(p.v))));
  g.stroke();
  if (a.length) {
    const last = a[a.length - 1];
    g.fillStyle = COLORS[i % COLORS.length];
    g.beginPath(); g.arc(x(last.t), y(last.v), 3, 0, 7); g.fill();
  }
  const st = dash.stats && dash.stats.sensors[i];
  if (st)
    $('rate-' + i).textContent = (a.length ? a[a.length - 1].v.toFixed(2) + ' °C · ' : '') +
      'rate ' + st.rate + '/s · measured ' + st.measured.toFixed(0) + '/s';
}

function drawThroughput() {
  const [g, w, h] = fitCanvas($('throughput'));
  g.clearRect(0, 0, w, h);
  const a = dash.throughput;
  const hi = Math.max(10, ...a);
  g.strokeStyle = '#58a6ff';
  g.lineWidth = 1.5;
  g.beginPath();
  a.forEach((v, k) => {
    const xx = w * k / 119, yy = h - 2 - (h - 18) * v / hi;
    k ? g.lineTo(xx, yy) : g.moveTo(xx, yy);
  });
  g.stroke();
  g.fillStyle = '#8893a0';
  g.font = '11px system-ui, sans-serif';
  g.fillText('items/s, last 30 s (max ' + Math.round(hi) + ')', 4, 12);
}

function drawCounters() {
  const s = dash.stats;
  if (s) {
    $('c-throughput').textContent = s.throughput.toLocaleString();
    $('c-stored').textContent = s.stored.toLocaleString() + ' in ' +
      s.batches.toLocaleString() + ' batches';
    $('c-errors').textContent = s.errors.toLocaleString();
    $('c-queue').textContent = s.queue + ' / ' + s.capacity;
    $('c-queue-bar').style.width = (100 * s.queue / s.capacity) + '%';
    $('c-high').textContent = s.high_water + ' / ' + s.capacity;
    $('c-waits').textContent = s.sensor_waits.toLocaleString();
    $('c-flight').textContent = s.in_flight + ' / ' + s.stores;
    $('c-published').textContent = s.published.toLocaleString() + ' events';
    $('c-clients').textContent = s.sse_clients + ' SSE, ' + s.ws_clients + ' WS';
  }
  $('c-sse').textContent = dash.sse.events.toLocaleString() + ' (last id ' + dash.sse.lastId + ')';
  $('c-ws').textContent = dash.ws.events.toLocaleString();
  $('c-resumes').textContent = Math.max(0, dash.sse.opens - 1) + ' SSE, ' +
    Math.max(0, dash.ws.opens - 1) + ' WS';
  $('c-gaps').textContent = dash.sse.gaps + dash.sse.rillGaps + dash.ws.gaps + dash.ws.rillGaps;
}

let dirty = true;
function frame() {
  if (dirty) {
    dirty = false;
    const now = latestTime();
    for (let i = 0; i < dash.sensors; i++) drawChart(i, now);
    drawThroughput();
    drawCounters();
  }
  requestAnimationFrame(frame);
}

function setState(id, text, cls) {
  const el = $(id);
  el.textContent = text;
  el.className = 'state ' + (cls || '');
}

function log(text, bad) {
  const li = document.createElement('li');
  li.textContent = new Date().toLocaleTimeString() + ' ' + text;
  if (bad) li.className = 'err';
  const ol = $('log');
  ol.prepend(li);
  while (ol.children.length > 50) ol.lastChild.remove();
}

connectSse();
connectWs();
requestAnimationFrame(frame);
