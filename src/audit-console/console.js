// The privacy officer's console. Plain browser JavaScript, served as is by the gateway (no build
// step, no CDN, no framework). The official's personal certificate opens an officer session
// (POST /audit/session); its token, kept in memory only, authorises every call to
// /audit/graphql, the CSV export and the printable citizen report. Swedish by default.

import { currentLanguage, has, localDate, localTime, setLanguage, setTimeZone, startOfLocalDay, t, translateStatic } from './i18n.js';

const $ = (selector, root = document) => root.querySelector(selector);
const el = (tag, attributes = {}, ...children) => {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') node.className = value;
    else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children.flat()) if (child !== undefined && child !== null && child !== false) node.append(child instanceof Node ? child : String(child));
  return node;
};
const SVG = 'http://www.w3.org/2000/svg';
const svg = (tag, attributes = {}, ...children) => {
  const node = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, String(value));
  for (const child of children) node.append(child);
  return node;
};

const state = {
  session: null,
  me: null,
  vocabulary: null,
  agencies: new Map(),
  /** One search: the form's filter, and the moment its first answer was read (every later view ends there). */
  search: { filter: null, asOf: null, cursors: [null], page: 0, pageSize: 25 },
  /** What the results area shows; rendered as a whole, so no part can show another search's state. */
  result: { status: 'idle' },
  sort: { column: null, descending: false },
  detail: null,
  /** Last answers of the other views, kept so a language switch can redraw them. */
  chain: { status: 'pending' },
  anomalies: null,
  report: null,
  generation: 0,
};

// ---- labels: from the vocabulary (the schemas' descriptions), in the chosen language ----------

function labelOf(list, key) {
  const label = state.vocabulary?.[list]?.find((entry) => entry.key === key);
  return label ? label[currentLanguage()] : key;
}
const fieldLabel = (coordinate) => labelOf('fields', coordinate);
const purposeLabel = (purpose) => labelOf('purposes', purpose);
/** An audit search without a case of its own is recorded as `none`. */
const caseText = (entry) => (entry.kind === 'AUDIT_QUERY' && entry.caseId === 'none' ? '–' : entry.caseId);
const agencyName = (id) => (id === '*' ? t('rules.any') : (state.agencies.get(id)?.name ?? id));
function outcomeText(entry) {
  const code = entry.outcomeCode ? ` · ${has(`outcomeCode.${entry.outcomeCode}`) ? t(`outcomeCode.${entry.outcomeCode}`) : entry.outcomeCode}` : '';
  return `${labelOf('outcomes', entry.outcome)}${code}`;
}

// ---- errors: a coded API error becomes a sentence, with the code and request id to quote -------

function codedError(body, status) {
  const first = body?.errors?.[0];
  const error = new Error(first?.message ?? `HTTP ${status}`);
  error.code = first?.extensions?.code ?? (status ? `HTTP_${status}` : 'NETWORK');
  error.argument = first?.extensions?.argument;
  error.requestId = body?.extensions?.requestId ?? '–';
  return error;
}

function explain(error) {
  if (error.code === 'BAD_USER_INPUT' && ['subject', 'from', 'to', 'personnummer'].includes(error.argument)) return t(`error.${error.argument}`);
  if (error.code === 'LOCAL_INPUT') return t(error.message);
  if (String(error.code).startsWith('TOKEN_') || ['OFFICIAL_NOT_REGISTERED', 'PERSONAL_CERTIFICATE_REQUIRED'].includes(error.code)) return t('error.session', { code: error.code });
  if (has(`error.${error.code}`)) return t(`error.${error.code}`);
  return t('error.other', { code: error.code });
}

function showError(target, error) {
  target.hidden = false;
  target.replaceChildren(explain(error), error.code === 'LOCAL_INPUT' ? '' : el('span', { class: 'reference' }, t('error.reference', { code: error.code, requestId: error.requestId ?? '–' })));
}

function clearError(target) {
  target.hidden = true;
  target.replaceChildren();
}

// ---- officer session -------------------------------------------------------------------------

let renewal;

/**
 * Opens (or renews) the officer session: the browser presents the personal certificate in the
 * TLS handshake, the gateway checks the officials registry and answers with a token bound to
 * that certificate. Renewed before it ends, so a person never has to do anything for it.
 */
async function openSession() {
  const response = await fetch('/audit/session', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
  const body = await response.json().catch(() => null);
  if (!response.ok) throw codedError(body, response.status);
  state.session = body;
  clearTimeout(renewal);
  const remaining = Date.parse(body.expiresAt) - Date.now();
  renewal = setTimeout(
    () => {
      openSession().catch((error) => {
        const banner = $('#banner');
        banner.hidden = false;
        banner.textContent = t('app.sessionLost', { code: error.code });
      });
    },
    Math.max(5_000, remaining * 0.8),
  );
  return body;
}

/** POST with the session's token; a session that ended meanwhile (a laptop asleep) is renewed once. */
async function authorised(path, init, retry = true) {
  const response = await fetch(path, { ...init, method: 'POST', headers: { ...init.headers, authorization: `Bearer ${state.session?.token ?? ''}` } });
  if (response.status === 401 && retry) {
    const body = await response
      .clone()
      .json()
      .catch(() => null);
    if (body?.errors?.[0]?.extensions?.code === 'TOKEN_EXPIRED') {
      await openSession();
      return authorised(path, init, false);
    }
  }
  return response;
}

async function gql(query, variables = {}) {
  let response;
  try {
    response = await authorised('/audit/graphql', { headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query, variables }) });
  } catch {
    throw codedError(null, 0);
  }
  const body = await response.json().catch(() => null);
  if (!body || body.errors?.length || !body.data) throw codedError(body, response.status);
  return body.data;
}

const ENTRY_FIELDS = `id kind time requestId clientAgency { id name organisationNumber } official purpose legalBasis processingRegisterRef { recordId version }
  caseId subject field category owningAgency outcome outcomeCode operationName documentHash chainId seq hash`;

// ---- caller, vocabulary, filters ----------------------------------------------------------------

async function loadCaller() {
  const data = await gql(`{ me { agency { id name } role official officialName }
    agencies { id name organisationNumber }
    vocabulary { timeZone fields { key sv en } purposes { key sv en } categories { key sv en } outcomes { key sv en } kinds { key sv en } anomalyKinds { key sv en description } roles { key sv en } } }`);
  state.me = data.me;
  state.vocabulary = data.vocabulary;
  setTimeZone(data.vocabulary.timeZone);
  for (const agency of data.agencies) state.agencies.set(agency.id, agency);
  const supervisor = data.me.role === 'SUPERVISOR';
  $('#kind-label').hidden = !supervisor;
  $('#tab-rules').hidden = !supervisor;
  renderStatic();
}

function renderCaller() {
  if (!state.me) return;
  const { me } = state;
  $('#caller').replaceChildren(
    el('strong', {}, me.officialName),
    ` (${me.official}) · ${labelOf('roles', me.role)}, ${me.agency.name}`,
    el('span', { class: 'scope' }, t(`app.scope.${me.role}`, { agency: me.agency.name })),
  );
}

/** Fills a select with "any" and the options, keeping what was chosen. */
function fillSelect(select, options) {
  const chosen = select.value;
  select.replaceChildren(el('option', { value: '' }, t('filter.any')), ...options.map(([value, text]) => el('option', { value }, text)));
  select.value = options.some(([value]) => value === chosen) ? chosen : '';
}

function renderFilterOptions() {
  if (!state.vocabulary) return;
  const agencies = [...state.agencies.values()].sort((a, b) => a.name.localeCompare(b.name, 'sv')).map((a) => [a.id, a.name]);
  const lang = currentLanguage();
  const byLabel = (list) => state.vocabulary[list].map((l) => [l.key, l[lang]]).sort((a, b) => a[1].localeCompare(b[1], lang));
  fillSelect($('#search select[name="clientAgency"]'), agencies);
  fillSelect($('#search select[name="owningAgency"]'), agencies);
  fillSelect($('#search select[name="purpose"]'), byLabel('purposes'));
  fillSelect($('#search select[name="field"]'), byLabel('fields'));
  fillSelect(
    $('#search select[name="outcome"]'),
    state.vocabulary.outcomes.map((l) => [l.key, l[lang]]),
  );
  fillSelect(
    $('#search select[name="kind"]'),
    state.vocabulary.kinds.map((l) => [l.key, l[lang]]),
  );
  const series = $('#series');
  const chosen = series.value || 'PURPOSE';
  series.replaceChildren(...['PURPOSE', 'CLIENT_AGENCY', 'OWNING_AGENCY'].map((key) => el('option', { value: key }, t(`chart.${key}`))));
  series.value = chosen;
}

/**
 * The search form as the API's filter. Dates are local calendar days: `from` starts at local
 * midnight, `to` is inclusive in the form and so ends at the next local midnight.
 */
function formFilter() {
  const data = new FormData($('#search'));
  const filter = {};
  for (const [key, raw] of data) {
    const value = String(raw).trim();
    if (!value) continue;
    if (key === 'from' || key === 'to') {
      const instant = startOfLocalDay(value, key === 'to' ? 1 : 0);
      if (!instant) throw Object.assign(new Error(`error.${key}`), { code: 'LOCAL_INPUT' });
      filter[key] = instant;
    } else filter[key] = value;
  }
  if (filter.from && filter.to && filter.from >= filter.to) throw Object.assign(new Error('error.range'), { code: 'LOCAL_INPUT' });
  return filter;
}

/** The filter of the current search ending at its first answer's moment, so every view sees the same entries. */
function snapshotFilter() {
  const { filter, asOf } = state.search;
  if (!asOf) return filter;
  return { ...filter, to: filter.to && filter.to < asOf ? filter.to : asOf };
}

// ---- search, table, paging ------------------------------------------------------------------

const COLUMNS = [
  { key: 'time', value: (e) => e.time, cell: (e) => el('button', { type: 'button', class: 'link', 'data-id': e.id, onclick: () => openDetail(e) }, localTime(e.time)) },
  { key: 'client', value: (e) => e.clientAgency.name, cell: (e) => e.clientAgency.name },
  { key: 'official', value: (e) => e.official, cell: (e) => e.official },
  { key: 'purpose', value: (e) => purposeLabel(e.purpose), cell: (e) => purposeLabel(e.purpose) },
  { key: 'case', value: (e) => caseText(e), cell: (e) => caseText(e) },
  { key: 'subject', value: (e) => e.subject ?? '', cell: (e) => el('span', { class: 'mono' }, e.subject ?? '–') },
  // An audit search has no personal field: its kind and action say what it was.
  {
    key: 'field',
    value: (e) => (e.kind === 'ACCESS' ? fieldLabel(e.field) : `${labelOf('kinds', e.kind)} ${e.field}`),
    cell: (e) => (e.kind === 'ACCESS' ? fieldLabel(e.field) : [labelOf('kinds', e.kind), ' ', el('span', { class: 'mono' }, e.field.replace(/^Query\./, ''))]),
  },
  { key: 'owner', value: (e) => agencyName(e.owningAgency), cell: (e) => agencyName(e.owningAgency) },
  { key: 'outcome', value: (e) => outcomeText(e), cell: (e) => el('span', { class: `pill ${e.outcome.toLowerCase()}` }, outcomeText(e)) },
];

async function search(reset) {
  const generation = ++state.generation;
  closeDetail(false);
  try {
    if (reset) {
      state.search = { ...state.search, filter: formFilter(), asOf: null, cursors: [null], page: 0 };
    }
  } catch (error) {
    state.result = { status: 'error', error };
    return render();
  }
  state.result = { ...state.result, status: 'loading' };
  render();
  try {
    const page = await gql(
      `query Entries($filter: EntryFilter, $first: Int, $after: String) { entries(filter: $filter, first: $first, after: $after) { asOf totalCount nextCursor entries { ${ENTRY_FIELDS} } } }`,
      {
        filter: snapshotFilter(),
        first: state.search.pageSize,
        after: state.search.cursors[state.search.page],
      },
    );
    if (generation !== state.generation) return;
    if (reset) state.search.asOf = page.entries.asOf;
    const chart = reset || !state.result.chart ? await loadChart() : state.result.chart;
    if (generation !== state.generation) return;
    state.result = { status: 'ok', page: page.entries, chart };
  } catch (error) {
    if (generation !== state.generation) return;
    // Nothing of an earlier search stays on screen: list, count, chart and export all say the same.
    state.result = { status: 'error', error };
  }
  render();
}

function loadChart() {
  return gql(`query Volume($filter: EntryFilter, $series: VolumeSeries) { dailyVolume(filter: $filter, series: $series) { days series { key counts } } }`, {
    filter: snapshotFilter(),
    series: $('#series').value || 'PURPOSE',
  }).then((data) => ({ ...data.dailyVolume, seriesKind: $('#series').value || 'PURPOSE' }));
}

function sortedEntries(entries) {
  const column = COLUMNS.find((c) => c.key === state.sort.column);
  if (!column) return entries;
  const lang = currentLanguage();
  const sorted = [...entries].sort((a, b) => String(column.value(a)).localeCompare(String(column.value(b)), lang, { numeric: true }));
  return state.sort.descending ? sorted.reverse() : sorted;
}

function renderHead() {
  const row = $('#results thead tr');
  row.replaceChildren(
    ...COLUMNS.map((column) => {
      const active = state.sort.column === column.key;
      const name = t(`col.${column.key}`);
      return el(
        'th',
        { scope: 'col', class: `col-${column.key}`, 'aria-sort': active ? (state.sort.descending ? 'descending' : 'ascending') : 'none' },
        el(
          'button',
          { type: 'button', class: 'sort', title: t('col.sortBy', { column: name }), onclick: () => sortBy(column.key) },
          name,
          el('span', { class: 'arrow', 'aria-hidden': 'true' }, active ? (state.sort.descending ? ' ▼' : ' ▲') : ''),
        ),
      );
    }),
  );
}

function sortBy(key) {
  state.sort = state.sort.column === key ? { column: key, descending: !state.sort.descending } : { column: key, descending: false };
  render();
  $(`#results th.col-${key} button`)?.focus();
}

function messageRow(text, className = 'muted') {
  return el('tr', { class: 'message' }, el('td', { colspan: COLUMNS.length, class: className }, text));
}

/** The results area from `state.result` as a whole: count, table, pager, chart, export. */
function render() {
  const { result, search: current } = state;
  renderHead();
  const error = $('#search-error');
  const tbody = $('#results tbody');
  $('#results-area').setAttribute('aria-busy', String(result.status === 'loading'));
  const ok = result.status === 'ok';
  $('#do-export').disabled = !ok || result.page.totalCount === 0;
  $('#prev').disabled = !ok || current.page === 0;
  $('#next').disabled = !ok || result.page.nextCursor === null;
  if (result.status !== 'ok') {
    // Idle, loading or refused: nothing of an earlier search stays (count, rows, chart, paging).
    if (result.status === 'error') showError(error, result.error);
    else clearError(error);
    $('#count').textContent = '';
    $('#page-info').textContent = '';
    const message = { error: ['results.notShown', 'error-cell'], idle: ['results.idle', 'muted'], loading: ['results.loading', 'muted'] }[result.status];
    tbody.replaceChildren(messageRow(t(message[0]), message[1]));
    renderChart(null);
    $('#sort-note').hidden = true;
    return;
  }
  clearError(error);
  const { page, chart } = result;
  const first = current.page * current.pageSize;
  $('#count').textContent = `(${t('results.count', { total: page.totalCount })}, ${t('results.asOf', { time: localTime(current.asOf, true) })})`;
  $('#page-info').textContent = page.totalCount === 0 ? '' : t('results.range', { first: first + 1, last: first + page.entries.length, total: page.totalCount });
  $('#sort-note').hidden = !(state.sort.column && (page.nextCursor !== null || current.page > 0));
  const rows = sortedEntries(page.entries).map((entry) =>
    el(
      'tr',
      { class: `outcome-${entry.outcome.toLowerCase()}`, 'data-id': entry.id },
      COLUMNS.map((column) => el('td', { class: `col-${column.key}`, 'data-label': t(`col.${column.key}`) }, column.cell(entry))),
    ),
  );
  tbody.replaceChildren(...(rows.length ? rows : [messageRow(t('results.none'))]));
  markSelected();
  renderChart(chart);
}

// ---- chart -----------------------------------------------------------------------------------

const COLOURS = ['#1f5fa8', '#d9822b', '#2e8b57', '#b23a48', '#7b5ea7', '#8c6d31', '#17808c', '#c2549d'];

function renderChart(data) {
  const container = $('#chart');
  const legend = $('#legend');
  if (!data || data.days.length === 0) {
    container.replaceChildren(el('p', { class: 'muted' }, data ? t('chart.empty') : '–'));
    container.setAttribute('aria-label', t('chart.empty'));
    legend.replaceChildren();
    container.dataset.total = '0';
    return;
  }
  const label = data.seriesKind === 'PURPOSE' ? purposeLabel : agencyName;
  const { days } = data;
  // Drawn at the container's own size, so the labels keep their size on a phone as on a desktop.
  const width = Math.max(280, container.clientWidth || 760);
  const height = Math.max(70, container.clientHeight || 96);
  const pad = { left: 30, right: 6, top: 6, bottom: 18 };
  const totals = days.map((_, i) => data.series.reduce((sum, s) => sum + s.counts[i], 0));
  const max = Math.max(1, ...totals);
  const slot = (width - pad.left - pad.right) / days.length;
  const barWidth = Math.max(2, Math.min(40, slot * 0.7));
  const y = (value) => pad.top + (height - pad.top - pad.bottom) * (1 - value / max);
  const chart = svg('svg', { viewBox: `0 0 ${width} ${height}`, class: 'bars', 'aria-hidden': 'true' });
  chart.append(svg('line', { x1: pad.left, x2: width - pad.right, y1: y(0), y2: y(0), class: 'axis' }));
  chart.append(svg('text', { x: pad.left - 6, y: y(max) + 4, class: 'tick', 'text-anchor': 'end' }, document.createTextNode(String(max))));
  chart.append(svg('text', { x: pad.left - 6, y: y(0), class: 'tick', 'text-anchor': 'end' }, document.createTextNode('0')));
  days.forEach((day, i) => {
    let base = 0;
    const x = pad.left + slot * i + (slot - barWidth) / 2;
    data.series.forEach((s, j) => {
      const count = s.counts[i];
      if (count === 0) return;
      const rect = svg('rect', { x, width: barWidth, y: y(base + count), height: y(base) - y(base + count), fill: COLOURS[j % COLOURS.length] });
      rect.append(svg('title', {}, document.createTextNode(`${day} · ${label(s.key)}: ${count}`)));
      chart.append(rect);
      base += count;
    });
    if (days.length <= 16 || i % Math.ceil(days.length / 12) === 0) {
      chart.append(svg('text', { x: x + barWidth / 2, y: height - 4, class: 'tick', 'text-anchor': 'middle' }, document.createTextNode(day.slice(5))));
    }
  });
  container.replaceChildren(chart);
  container.dataset.total = String(totals.reduce((a, b) => a + b, 0));
  container.setAttribute('aria-label', t('chart.label', { days: days.map((d, i) => `${d} ${totals[i]}`).join(', ') }));
  legend.replaceChildren(
    ...data.series.map((s, j) => {
      const swatch = el('span', { class: 'swatch', 'aria-hidden': 'true' });
      swatch.style.background = COLOURS[j % COLOURS.length];
      return el('li', {}, swatch, `${label(s.key)} (${s.counts.reduce((a, b) => a + b, 0)})`);
    }),
  );
}

async function redrawChart() {
  if (state.result.status !== 'ok') return;
  const generation = state.generation;
  try {
    const chart = await loadChart();
    if (generation === state.generation && state.result.status === 'ok') state.result = { ...state.result, chart };
  } catch (error) {
    if (generation === state.generation) state.result = { status: 'error', error };
  }
  render();
}

// ---- detail side panel -----------------------------------------------------------------------

function openDetail(entry) {
  state.detail = entry;
  renderDetail();
  const panel = $('#detail');
  panel.hidden = false;
  panel.dataset.returnTo = entry.id;
  markSelected();
  $('#detail-heading').focus();
}

/** The row whose entry the panel shows stays marked, so the officer sees which one it is. */
function markSelected() {
  for (const row of document.querySelectorAll('#results tbody tr')) row.classList.toggle('selected', row.dataset.id === state.detail?.id);
}

function renderDetail() {
  const entry = state.detail;
  if (!entry) return;
  const audit = entry.kind === 'AUDIT_QUERY';
  const rows = [
    ['detail.time', localTime(entry.time, true)],
    ['detail.kind', labelOf('kinds', entry.kind)],
    ['detail.clientAgency', `${entry.clientAgency.name} (${entry.clientAgency.organisationNumber})`],
    ['detail.official', entry.official],
    ['detail.purpose', purposeLabel(entry.purpose)],
    ['detail.legalBasis', entry.legalBasis],
    ['detail.case', caseText(entry)],
    ['detail.subject', entry.subject ?? '–', 'mono'],
    ['detail.field', audit ? entry.field : `${fieldLabel(entry.field)} · ${entry.field}`],
    ['detail.category', entry.category ? labelOf('categories', entry.category) : '–'],
    ['detail.owner', agencyName(entry.owningAgency)],
    ['detail.outcome', outcomeText(entry)],
    [audit ? 'detail.filterUsed' : 'detail.operation', entry.operationName ?? '–', audit ? 'mono' : ''],
    ['detail.register', `${entry.processingRegisterRef.recordId} v${entry.processingRegisterRef.version}`],
    ['detail.timeUtc', entry.time, 'mono'],
    ['detail.requestId', entry.requestId, 'mono'],
    ['detail.id', entry.id, 'mono'],
    ['detail.chain', `${entry.chainId} / ${entry.seq}`, 'mono'],
    ['detail.documentHash', entry.documentHash, 'mono'],
    ['detail.hash', entry.hash, 'mono'],
  ];
  $('#detail-heading').replaceChildren(t('detail.heading'), el('span', { class: 'subtitle' }, `${audit ? labelOf('kinds', entry.kind) : fieldLabel(entry.field)} · ${localTime(entry.time)}`));
  $('#detail-body').replaceChildren(...rows.flatMap(([term, value, className]) => [el('dt', {}, t(term)), el('dd', { class: className ?? '' }, value)]));
}

function closeDetail(returnFocus = true) {
  const panel = $('#detail');
  state.detail = null;
  markSelected();
  if (panel.hidden) return;
  panel.hidden = true;
  if (returnFocus) document.querySelector(`#results button[data-id="${CSS.escape(panel.dataset.returnTo ?? '')}"]`)?.focus();
}

// ---- CSV -------------------------------------------------------------------------------------

/** Downloads the current search (the same entries the list counts) as CSV, fetched with the token. */
async function exportCsv() {
  if (state.result.status !== 'ok') return;
  const fields = { ...snapshotFilter(), lang: currentLanguage() };
  try {
    const response = await authorised('/audit/export.csv', { headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields).toString() });
    if (!response.ok) throw codedError(await response.json().catch(() => null), response.status);
    const name = /filename="([^"]+)"/.exec(response.headers.get('content-disposition') ?? '')?.[1] ?? 'access-log.csv';
    const url = URL.createObjectURL(await response.blob());
    const link = el('a', { href: url, download: name, hidden: true });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
    if (response.headers.get('x-export-complete') === 'false') {
      const note = $('#search-error');
      note.hidden = false;
      note.textContent = t('results.exportIncomplete', { count: 100000 });
    }
  } catch (error) {
    showError($('#search-error'), error);
  }
}

// ---- anomalies -------------------------------------------------------------------------------

async function evaluateAnomalies(event) {
  event?.preventDefault();
  const errorBox = $('#anomaly-error');
  const target = $('#anomalies');
  clearError(errorBox);
  const data = new FormData($('#anomaly-form'));
  const fromDay = String(data.get('from') || '');
  const toDay = String(data.get('to') || '');
  const from = fromDay ? startOfLocalDay(fromDay) : null;
  const to = toDay ? startOfLocalDay(toDay, 1) : null;
  state.anomalies = null;
  target.replaceChildren(el('p', { class: 'muted' }, t('anomalies.evaluating')));
  try {
    const { anomalies } = await gql(
      `query Anomalies($from: String, $to: String) { anomalies(from: $from, to: $to) { from to complete flags { kind clientAgency { name } official caseId day value threshold entryCount entries { ${ENTRY_FIELDS} } } } }`,
      { from, to },
    );
    state.anomalies = anomalies;
    renderAnomalies();
  } catch (error) {
    target.replaceChildren();
    showError(errorBox, error);
  }
}

function renderAnomalies() {
  const anomalies = state.anomalies;
  if (!anomalies) return;
  const header = el(
    'p',
    { class: 'muted' },
    `${t('anomalies.summary', { count: anomalies.flags.length, from: localDate(anomalies.from), to: localDate(anomalies.to) })} ${anomalies.complete ? '' : t('anomalies.partial')}`,
  );
  const cards = anomalies.flags.map((flag, index) => {
    const list = el('div', { id: `flag-${index}`, hidden: true });
    const toggle = el('button', { type: 'button', 'aria-expanded': 'false', 'aria-controls': `flag-${index}` }, t('anomalies.show', { count: flag.entryCount }));
    toggle.addEventListener('click', () => {
      const open = list.hidden;
      list.hidden = !open;
      toggle.setAttribute('aria-expanded', String(open));
      toggle.textContent = t(open ? 'anomalies.hide' : 'anomalies.show', { count: flag.entryCount });
      if (open && !list.firstChild) {
        list.append(
          compactTable(
            ['col.time', 'col.case', 'col.subject', 'col.field', 'col.outcome'],
            flag.entries.map((entry) =>
              el(
                'tr',
                {},
                el('td', {}, el('button', { type: 'button', class: 'link', 'data-id': entry.id, onclick: () => openDetail(entry) }, localTime(entry.time))),
                el('td', {}, entry.caseId),
                el('td', { class: 'mono' }, entry.subject ?? '–'),
                el('td', {}, fieldLabel(entry.field)),
                el('td', {}, outcomeText(entry)),
              ),
            ),
          ),
        );
      }
    });
    const description = state.vocabulary?.anomalyKinds.find((k) => k.key === flag.kind)?.description;
    return el(
      'article',
      { class: 'flag' },
      el('h3', {}, labelOf('anomalyKinds', flag.kind)),
      description ? el('p', { class: 'muted' }, description) : '',
      el(
        'p',
        {},
        [
          flag.clientAgency.name,
          t('anomalies.official', { official: flag.official }),
          flag.caseId ? t('anomalies.case', { case: flag.caseId }) : '',
          flag.day ?? '',
          t('anomalies.measured', { value: flag.value, threshold: flag.threshold }),
        ]
          .filter(Boolean)
          .join(' · '),
      ),
      toggle,
      list,
    );
  });
  $('#anomalies').replaceChildren(header, ...(cards.length ? cards : [el('p', {}, t('anomalies.none'))]));
}

// ---- citizen report and rules --------------------------------------------------------------

async function showReport() {
  const errorBox = $('#report-error');
  clearError(errorBox);
  state.report = null;
  $('#report').replaceChildren();
  const personnummer = $('#report-form input[name="personnummer"]').value.trim();
  try {
    const { citizenReport } = await gql(
      `query Report($p: String!) { citizenReport(personnummer: $p) { subject generatedAt scope { agency { name } } summary { agency { name } category purpose legalBasis reads firstRead lastRead } reads { time } heldBack { rule { id holdUntil reason } entries } } }`,
      { p: personnummer },
    );
    state.report = citizenReport;
    renderReport();
  } catch (error) {
    showError(errorBox, error);
  }
}

/** A compact table: a header row of translated column names, then the rows. */
function compactTable(columns, rows) {
  return el(
    'table',
    { class: 'compact' },
    el(
      'thead',
      {},
      el(
        'tr',
        {},
        columns.map((h) => el('th', { scope: 'col' }, t(h))),
      ),
    ),
    el('tbody', {}, rows),
  );
}

function renderReport() {
  const report = state.report;
  if (!report) return;
  $('#report').replaceChildren(
    el('h3', {}, t('report.reads', { count: report.reads.length, subject: report.subject })),
    el('p', { class: 'scope-note', 'data-scope': report.scope.agency ? 'agency' : 'all' }, report.scope.agency ? t('report.scopeAgency', { agency: report.scope.agency.name }) : t('report.scopeAll')),
    report.summary.length
      ? compactTable(
          ['report.col.agency', 'report.col.category', 'report.col.purpose', 'report.col.basis', 'report.col.reads', 'report.col.first', 'report.col.last'],
          report.summary.map((s) =>
            el(
              'tr',
              {},
              el('td', {}, s.agency.name),
              el('td', {}, labelOf('categories', s.category)),
              el('td', {}, purposeLabel(s.purpose)),
              el('td', {}, s.legalBasis),
              el('td', { class: 'num' }, s.reads),
              el('td', { class: 'time' }, localTime(s.firstRead)),
              el('td', { class: 'time' }, localTime(s.lastRead)),
            ),
          ),
        )
      : el('p', {}, t('report.none')),
    report.heldBack.length
      ? el(
          'div',
          { class: 'held' },
          el('h4', {}, t('report.heldBack')),
          el(
            'ul',
            {},
            report.heldBack.map((h) => el('li', {}, t('report.heldBackItem', { count: h.entries, rule: h.rule.id, until: h.rule.holdUntil, reason: h.rule.reason }))),
          ),
        )
      : '',
  );
}

async function loadRules() {
  try {
    const { confidentialityRules } = await gql(`{ confidentialityRules { id purpose clientAgency casePattern holdUntil reason } }`);
    $('#rules').replaceChildren(
      compactTable(
        ['rules.col.rule', 'rules.col.purpose', 'rules.col.client', 'rules.col.case', 'rules.col.until', 'rules.col.reason'],
        confidentialityRules.map((r) =>
          el(
            'tr',
            {},
            el('td', {}, r.id),
            el('td', {}, r.purpose ? purposeLabel(r.purpose) : t('rules.any')),
            el('td', {}, r.clientAgency ? agencyName(r.clientAgency) : t('rules.any')),
            el('td', { class: 'mono' }, r.casePattern ?? t('rules.any')),
            el('td', {}, r.holdUntil),
            el('td', {}, r.reason),
          ),
        ),
      ),
    );
  } catch (error) {
    $('#rules').replaceChildren(el('p', { class: 'error' }, explain(error)));
  }
}

// ---- chain -------------------------------------------------------------------------------------

async function verifyChain() {
  state.chain = { status: 'checking' };
  renderChain();
  try {
    const { verification } = await gql(`{ verification { ok verifiedAt refreshing chains { chainId entries unanchoredEntries } firstBreak { chainId seq kind }
      transparency { ok quorum witnesses trees { chainId ok problem verifiedAt verifiedSize checkpointSize checkpointTime cosignedSize cosignedTime witnessedSize witnesses quorumMet } } } }`);
    const transparency = verification.transparency;
    const broken = transparency?.trees.find((tree) => !tree.ok);
    const unwitnessed = transparency?.trees.find((tree) => !tree.quorumMet);
    const status = !verification.ok ? 'broken' : broken ? 'tree-broken' : unwitnessed ? 'quorum-missing' : 'ok';
    state.chain = { status, verification, tree: broken ?? unwitnessed };
  } catch (error) {
    state.chain = { status: 'failed', error };
  }
  renderChain();
}

/** A verification's time in the console's zone: the time of day when it is today's, else date and time. */
function verifiedTime(iso) {
  const full = localTime(iso, true);
  return full.slice(0, 10) === localTime(new Date().toISOString(), true).slice(0, 10) ? full.slice(11) : full;
}

/**
 * The badge: the hash chain, each chain's Merkle tree as far as its kept full verification
 * reached (when it ran, up to which checkpoint), the witnesses; red with the reason otherwise.
 */
function renderChain() {
  const badge = $('#chain-status');
  const { status, verification, error, tree } = state.chain;
  const bad = ['broken', 'tree-broken', 'quorum-missing', 'failed'].includes(status);
  badge.className = status === 'ok' ? 'badge ok' : bad ? 'badge bad' : 'badge';
  badge.dataset.state = status;
  badge.removeAttribute('title');
  const transparency = verification?.transparency;
  if (status === 'pending' || status === 'checking') badge.textContent = t(`chain.${status}`);
  else if (status === 'failed') badge.textContent = t('chain.failed', { code: error.code });
  else if (status === 'broken') badge.textContent = t('chain.broken', { kind: verification.firstBreak.kind, chain: verification.firstBreak.chainId, seq: verification.firstBreak.seq });
  else if (status === 'tree-broken') badge.textContent = t('log.treeBroken', { chain: tree.chainId, problem: tree.problem, time: verifiedTime(tree.verifiedAt) });
  else if (status === 'quorum-missing')
    badge.textContent = t('log.quorumMissing', { chain: tree.chainId, k: tree.witnesses.length, q: transparency.quorum, size: tree.witnessedSize ?? tree.checkpointSize });
  else if (!transparency || transparency.trees.every((tr) => tr.verifiedSize === null)) {
    const text = t('chain.ok', { entries: verification.chains.reduce((sum, c) => sum + c.entries, 0), time: verifiedTime(verification.verifiedAt) });
    badge.textContent = verification.refreshing ? t('log.refreshing', { badge: text }) : text;
  } else {
    const trees = transparency.trees.filter((tr) => tr.verifiedSize !== null);
    const size = trees.map((tr) => (trees.length > 1 ? `${tr.chainId} ${tr.verifiedSize}` : String(tr.verifiedSize))).join(', ');
    // The oldest of the chains' verifications: the badge claims no more than the weakest of them.
    const oldest = trees
      .map((tr) => tr.verifiedAt)
      .sort()
      .at(0);
    const k = Math.min(...trees.map((tr) => tr.witnesses.length));
    const time = verifiedTime(oldest);
    const text = transparency.quorum === 0 ? t('log.okNoWitnesses', { size, time }) : t('log.ok', { size, k, q: transparency.quorum, time });
    badge.textContent = verification.refreshing ? t('log.refreshing', { badge: text }) : text;
  }
  if (verification && status !== 'broken') {
    const unanchored = t('chain.detail', { chains: verification.chains.length, unanchored: verification.chains.reduce((sum, c) => sum + c.unanchoredEntries, 0) });
    const trees = (transparency?.trees ?? []).map((tree) =>
      t('log.detail', {
        chain: tree.chainId,
        verified: verifiedTime(tree.verifiedAt),
        verifiedSize: tree.verifiedSize ?? '–',
        size: tree.witnessedSize ?? '–',
        witnesses: tree.witnesses.join(', ') || '–',
        newest: tree.checkpointSize ?? '–',
        time: tree.checkpointTime ? localTime(tree.checkpointTime, true) : '–',
      }),
    );
    badge.title = [unanchored, ...trees].join('\n');
  }
}

// ---- language, tabs, layout ------------------------------------------------------------------

/** Everything that shows words: re-rendered when the language changes. */
function renderStatic() {
  translateStatic();
  renderChain();
  document.title = t('app.title');
  $('.tabs').setAttribute('aria-label', t('app.title'));
  $('#language').setAttribute('lang', currentLanguage() === 'sv' ? 'en' : 'sv');
  renderCaller();
  renderFilterOptions();
}

function switchLanguage() {
  setLanguage(currentLanguage() === 'sv' ? 'en' : 'sv');
  try {
    localStorage.setItem('audit-language', currentLanguage());
  } catch {
    // Storage may be off; the choice then lasts for this page.
  }
  renderStatic();
  render();
  renderDetail();
  renderAnomalies();
  renderReport();
  if (!$('#view-rules').hidden) void loadRules();
}

const TABS = ['search', 'anomalies', 'report', 'rules'];
function selectTab(name, focus = false) {
  for (const tab of TABS) {
    const button = $(`#tab-${tab}`);
    const selected = tab === name;
    button.setAttribute('aria-selected', String(selected));
    button.tabIndex = selected ? 0 : -1;
    $(`#view-${tab}`).hidden = !selected;
    if (selected && focus) button.focus();
  }
  if (name === 'rules') void loadRules();
}

function visibleTabs() {
  return TABS.filter((name) => !$(`#tab-${name}`).hidden);
}

/** On a wide screen the filter is always open; on a phone it starts folded, so the results show first. */
const narrow = window.matchMedia('(max-width: 760px)');
function fitFilters() {
  $('#filters').open = !narrow.matches;
}

function init() {
  let saved = null;
  try {
    saved = localStorage.getItem('audit-language');
  } catch {
    // No storage: Swedish.
  }
  setLanguage(saved ?? 'sv');
  renderStatic();
  render();
  fitFilters();
  narrow.addEventListener('change', fitFilters);
  $('#language').addEventListener('click', switchLanguage);
  $('#search').addEventListener('submit', (event) => {
    event.preventDefault();
    if (narrow.matches) $('#filters').open = false;
    void search(true);
  });
  $('#search').addEventListener('reset', () => setTimeout(() => void search(true)));
  $('#do-export').addEventListener('click', () => void exportCsv());
  $('#prev').addEventListener('click', () => {
    state.search.page = Math.max(0, state.search.page - 1);
    void search(false);
  });
  $('#next').addEventListener('click', () => {
    if (state.result.status !== 'ok' || state.result.page.nextCursor === null) return;
    state.search.cursors[state.search.page + 1] = state.result.page.nextCursor;
    state.search.page += 1;
    void search(false);
  });
  $('#page-size').addEventListener('change', () => {
    state.search.pageSize = Number($('#page-size').value);
    if (state.search.filter) void search(true);
  });
  $('#series').addEventListener('change', () => void redrawChart());
  $('#verify').addEventListener('click', () => void verifyChain());
  $('#detail-close').addEventListener('click', () => closeDetail());
  document.addEventListener('keydown', (event) => {
    if (event.key === 'Escape') closeDetail();
  });
  for (const tab of TABS) $(`#tab-${tab}`).addEventListener('click', () => selectTab(tab));
  $('.tabs').addEventListener('keydown', (event) => {
    if (event.key !== 'ArrowRight' && event.key !== 'ArrowLeft') return;
    const tabs = visibleTabs();
    const current = tabs.findIndex((name) => $(`#tab-${name}`).getAttribute('aria-selected') === 'true');
    selectTab(tabs[(current + (event.key === 'ArrowRight' ? 1 : tabs.length - 1)) % tabs.length], true);
  });
  $('#anomaly-form').addEventListener('submit', evaluateAnomalies);
  $('#report-show').addEventListener('click', () => void showReport());
  // The printable page opens in a new tab, where no header can be set: the token goes as a field.
  $('#report-form').addEventListener('submit', () => {
    $('#report-form input[name="token"]').value = state.session?.token ?? '';
    $('#report-form input[name="lang"]').value = currentLanguage();
  });
  // Nothing is searched before the session exists: every query is logged under the verified official.
  openSession()
    .then(loadCaller)
    .then(() => Promise.all([search(true), verifyChain()]))
    .catch((error) => {
      // The page itself loaded, so the certificate was accepted; a reload shows the gateway's explanation.
      const banner = $('#banner');
      banner.hidden = false;
      banner.textContent = explain(error);
    });
}

init();
