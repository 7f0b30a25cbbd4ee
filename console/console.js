// The serverfull web console: plain ES module, no build step. Every value from the server (names,
// payloads, log lines) is shown through textContent or SVG attributes, never parsed as HTML.
const SVG = 'http://www.w3.org/2000/svg';
const REFRESH_MS = 5000;
const CHARTS = [
  ['invocations', 'Invocations', ['invocations']],
  ['errors', 'Errors', ['errors']],
  ['throttles', 'Throttles', ['throttles']],
  ['duration', 'Duration p50 / p99 (ms)', ['p50', 'p99']],
  ['coldStarts', 'Cold starts', ['coldStarts']],
];

const state = { functions: [], selected: undefined, timer: undefined };
const $ = (id) => document.getElementById(id);

/** Calls the console API; resolves with its JSON, rejects with an Error carrying the server's message and status. */
async function api(path, options = {}) {
  const response = await fetch(`/console/api/${path}`, {
    method: options.method ?? 'GET',
    credentials: 'same-origin',
    headers: options.body === undefined ? {} : { 'Content-Type': 'application/json' },
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    const error = new Error(body.message ?? body.Message ?? `HTTP ${response.status}`);
    error.status = response.status;
    throw error;
  }
  return body;
}

/** An element with text content and attributes. */
function el(tag, text, attributes = {}) {
  const element = document.createElement(tag);
  if (text !== undefined && text !== null) element.textContent = String(text);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, value);
  return element;
}

function svg(tag, attributes = {}) {
  const element = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, String(value));
  return element;
}

function row(cells) {
  const tr = document.createElement('tr');
  for (const cell of cells) {
    const td = document.createElement('td');
    if (cell instanceof Node) td.append(cell);
    else td.textContent = cell === undefined || cell === null ? '' : String(cell);
    tr.append(td);
  }
  return tr;
}

function showError(error) {
  if (error?.status === 403 && /Log in/.test(error.message)) return showLogin();
  $('error').textContent = error instanceof Error ? error.message : String(error);
  $('error').hidden = false;
}

function clearError() {
  $('error').hidden = true;
}

async function start() {
  $('login-form').addEventListener('submit', login);
  $('logout').addEventListener('click', logout);
  $('invoke-form').addEventListener('submit', invoke);
  try {
    const session = await api('session');
    if (session.auth && !session.user) showLogin();
    else await showApp(session);
  } catch (error) {
    showError(error);
  }
}

function showLogin() {
  clearInterval(state.timer);
  $('app').hidden = true;
  $('logout').hidden = true;
  $('user').textContent = '';
  $('login').hidden = false;
  $('access-key-id').focus();
}

async function login(event) {
  event.preventDefault();
  $('login-error').textContent = '';
  try {
    const session = await api('session', { method: 'POST', body: { accessKeyId: $('access-key-id').value, secretAccessKey: $('secret-access-key').value } });
    $('secret-access-key').value = '';
    await showApp(session);
  } catch (error) {
    $('login-error').textContent = error.message;
  }
}

async function logout() {
  await api('session', { method: 'DELETE' }).catch(showError);
  showLogin();
}

async function showApp(session) {
  $('login').hidden = true;
  $('app').hidden = false;
  $('user').textContent = session.user ? `Signed in as ${session.user}` : '';
  $('logout').hidden = !session.auth;
  await refresh();
  clearInterval(state.timer);
  state.timer = setInterval(() => void refresh(), REFRESH_MS);
}

async function refresh() {
  try {
    const { functions, gatewayUrl } = await api('functions');
    state.functions = functions;
    $('gateway-url').textContent = gatewayUrl ? `API Gateway: ${gatewayUrl}` : '';
    if (!functions.some((fn) => fn.name === state.selected)) state.selected = functions[0]?.name;
    renderFunctionList();
    renderFunction();
    await Promise.all([refreshCharts(), refreshInvocations(), refreshParameters()]);
    clearError();
  } catch (error) {
    showError(error);
  }
}

function renderFunctionList() {
  const list = $('function-list');
  list.replaceChildren(...state.functions.map((fn) => {
    const button = el('button', fn.name, { type: 'button', 'data-function': fn.name, 'aria-current': String(fn.name === state.selected) });
    button.addEventListener('click', () => {
      state.selected = fn.name;
      renderFunctionList();
      renderFunction();
      void refreshCharts().catch(showError);
      void refreshInvocations().catch(showError);
    });
    const item = el('li');
    item.append(button);
    return item;
  }));
}

function renderFunction() {
  const fn = state.functions.find((f) => f.name === state.selected);
  $('function-name').textContent = fn ? fn.name : 'No function';
  $('invoke-button').disabled = !fn;
  const config = fn?.configuration ?? {};
  const pairs = [
    ['Runtime', config.Runtime], ['Handler', config.Handler], ['Memory (MB)', config.MemorySize], ['Timeout (s)', config.Timeout],
    ['Description', config.Description], ['Role', config.Role], ['Architectures', (config.Architectures ?? []).join(', ')],
    ['Environment', Object.keys(config.Environment?.Variables ?? {}).join(', ')], ['ARN', config.FunctionArn], ['Log group', config.LoggingConfig?.LogGroup],
  ];
  $('configuration').replaceChildren(...pairs.filter(([, v]) => v !== undefined && v !== '').map(([name, value]) => {
    const tr = el('tr');
    tr.append(el('th', name), el('td', value));
    return tr;
  }));
  setRows('versions', (fn?.versions ?? []).map((v) => row([v.version, v.description, v.codeSha256, v.lastModified])));
  setRows('aliases', (fn?.aliases ?? []).map((a) => {
    const weights = Object.entries(a.weights);
    const main = 1 - weights.reduce((sum, [, w]) => sum + w, 0);
    const text = [`${a.functionVersion}: ${Math.round(main * 100)}%`, ...weights.map(([v, w]) => `${v}: ${Math.round(w * 100)}%`)].join(', ');
    return row([a.name, a.functionVersion, text]);
  }));
  setRows('routes', (fn?.routes ?? []).map((r) => row([r.method, r.path, r.qualifier ?? '$LATEST', r.apiId])));
}

function setRows(tableId, rows) {
  $(tableId).querySelector('tbody').replaceChildren(...rows);
}

async function refreshCharts() {
  const name = state.selected;
  if (name === undefined) return $('charts').replaceChildren();
  const { minutes } = await api(`functions/${encodeURIComponent(name)}/metrics`);
  if (name !== state.selected) return;
  $('charts').replaceChildren(...CHARTS.map(([id, title, fields]) => chart(id, title, fields, minutes)));
}

/** An SVG line chart of `fields` over the minutes; `data-points` counts the minutes with a non-zero value. */
function chart(id, title, fields, minutes) {
  const width = 300;
  const height = 70;
  const values = fields.flatMap((f) => minutes.map((m) => m[f] ?? 0));
  const max = Math.max(1, ...values);
  const x = (i) => (i / Math.max(1, minutes.length - 1)) * (width - 8) + 4;
  const y = (v) => height - 4 - (v / max) * (height - 8);
  const figure = el('figure');
  const graph = svg('svg', { class: 'chart', viewBox: `0 0 ${width} ${height}`, preserveAspectRatio: 'none', 'data-metric': id, role: 'img', 'aria-label': title });
  let points = 0;
  for (const field of fields) {
    graph.append(svg('polyline', { class: field, points: minutes.map((m, i) => `${x(i).toFixed(1)},${y(m[field] ?? 0).toFixed(1)}`).join(' ') }));
    minutes.forEach((m, i) => {
      if (!m[field]) return;
      points++;
      const dot = svg('circle', { cx: x(i).toFixed(1), cy: y(m[field]).toFixed(1), r: 2, class: field });
      dot.append(svg('title'));
      dot.firstChild.textContent = `${new Date(m.time).toLocaleTimeString()}: ${field} ${m[field]}`;
      graph.append(dot);
    });
  }
  graph.setAttribute('data-points', String(points));
  const latest = minutes.at(-1) ?? {};
  const shown = (v) => (v === null || v === undefined ? '–' : Number.isInteger(v) ? String(v) : v.toFixed(2));
  figure.append(graph, el('figcaption', `${title}: ${fields.map((f) => shown(latest[f])).join(' / ')} this minute, peak ${shown(Math.max(0, ...values))}`));
  return figure;
}

async function refreshInvocations() {
  const { invocations } = await api('invocations');
  setRows('invocations', invocations.map((inv) => {
    const status = el('span', inv.outcome === 'functionError' ? 'error' : inv.outcome, { class: `status-${inv.outcome}`, title: inv.errorType ?? inv.outcome });
    const logButton = el('button', `${inv.requestId.slice(0, 8)}…`, { type: 'button', 'data-log': inv.requestId, title: `${inv.requestId}: show its log` });
    logButton.addEventListener('click', () => void showLog(inv));
    const traceButton = el('button', `…${inv.traceId.slice(-12)}`, { type: 'button', 'data-trace': inv.traceId, title: `${inv.traceId}: show the trace` });
    traceButton.addEventListener('click', () => void showTrace(inv.traceId));
    const tr = row([new Date(inv.startedAt).toLocaleTimeString([], { hour12: false }), inv.functionName, inv.version, status, inv.durationMs.toFixed(2), inv.coldStart ? `yes (init ${inv.initDurationMs?.toFixed(1)} ms)` : 'no', logButton, inv.traceId ? traceButton : '']);
    tr.setAttribute('data-request-id', inv.requestId);
    return tr;
  }));
}

async function showLog(inv) {
  $('log-section').hidden = false;
  $('log-request').textContent = `${inv.functionName} ${inv.requestId}`;
  $('log').textContent = 'Loading…';
  try {
    const { log } = await api(`invocations/${encodeURIComponent(inv.requestId)}/log`);
    $('log').textContent = log || 'The log is empty.';
  } catch (error) {
    $('log').textContent = error.status === 404 ? 'No stored log for this invocation.' : error.message;
  }
}

async function showTrace(traceId) {
  $('trace-section').hidden = false;
  $('trace-id').textContent = traceId;
  const { invocations } = await api(`invocations?traceId=${encodeURIComponent(traceId)}`).catch((error) => (showError(error), { invocations: [] }));
  const sorted = invocations.slice().sort((a, b) => a.startedAt - b.startedAt);
  const first = Math.min(...sorted.map((i) => i.startedAt));
  const last = Math.max(...sorted.map((i) => i.startedAt + i.durationMs));
  const span = Math.max(1, last - first);
  const width = 800;
  const label = 220;
  const lineHeight = 22;
  const graph = $('trace');
  graph.setAttribute('viewBox', `0 0 ${width} ${Math.max(1, sorted.length) * lineHeight + 4}`);
  graph.setAttribute('data-invocations', String(sorted.length));
  graph.replaceChildren(...sorted.flatMap((inv, i) => {
    const x = label + ((inv.startedAt - first) / span) * (width - label - 10);
    const w = Math.max(2, (inv.durationMs / span) * (width - label - 10));
    const text = svg('text', { x: 4, y: i * lineHeight + 16 });
    text.textContent = `${inv.functionName} (${inv.durationMs.toFixed(1)} ms)`;
    const bar = svg('rect', { x: x.toFixed(1), y: i * lineHeight + 4, width: w.toFixed(1), height: lineHeight - 8, 'data-function': inv.functionName, 'data-request-id': inv.requestId });
    bar.append(svg('title'));
    bar.firstChild.textContent = `${inv.functionName} ${inv.requestId}: +${(inv.startedAt - first).toFixed(0)} ms, ${inv.durationMs.toFixed(1)} ms, ${inv.outcome}`;
    return [text, bar];
  }));
  $('trace-section').scrollIntoView({ block: 'nearest' });
}

async function invoke(event) {
  event.preventDefault();
  const name = state.selected;
  if (name === undefined) return;
  $('invoke-button').disabled = true;
  try {
    const result = await api('invoke', { method: 'POST', body: { function: name, qualifier: $('invoke-qualifier').value.trim(), payload: $('invoke-payload').value } });
    $('invoke-output').hidden = false;
    $('invoke-status').textContent = `Status ${result.statusCode}, version ${result.executedVersion}${result.functionError ? `, function error (${result.functionError})` : ''}, request ${result.requestId}`;
    $('invoke-status').setAttribute('data-outcome', result.functionError ? 'error' : 'success');
    $('invoke-status').setAttribute('data-request-id', result.requestId);
    $('invoke-result').textContent = prettyJson(result.payload);
    $('invoke-log').textContent = result.log;
  } catch (error) {
    $('invoke-output').hidden = false;
    $('invoke-status').textContent = `Refused: ${error.message}`;
    $('invoke-status').setAttribute('data-outcome', 'refused');
    $('invoke-result').textContent = '';
    $('invoke-log').textContent = '';
  } finally {
    $('invoke-button').disabled = false;
  }
  await Promise.all([refreshCharts(), refreshInvocations()]).catch(showError);
}

/** Names of the SecureStrings the user chose to see, until the page is left: shown again after each refresh. */
const revealed = new Map();

async function refreshParameters() {
  const { parameters } = await api('parameters');
  setRows('parameters', parameters.map((p) => {
    let value;
    if (!p.readable) {
      value = el('span', '(not allowed)');
    } else if (p.type !== 'SecureString') {
      value = el('code', p.value);
    } else if (revealed.get(p.name)?.version === p.version) {
      value = el('code', revealed.get(p.name).value);
    } else {
      // A SecureString stays hidden until asked for, then is read alone, decrypted.
      value = el('button', 'Show', { type: 'button', 'data-reveal': p.name });
      value.addEventListener('click', async () => {
        try {
          const shown = await api(`parameter?name=${encodeURIComponent(p.name)}&decrypt=true`);
          revealed.set(p.name, { version: shown.version, value: shown.value });
          value.replaceWith(el('code', shown.value));
        } catch (error) {
          showError(error);
        }
      });
    }
    return row([p.name, p.type, p.version, new Date(p.lastModified).toISOString(), value]);
  }));
}

function prettyJson(text) {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}

void start();
