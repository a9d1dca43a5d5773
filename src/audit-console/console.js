// The privacy officer's console. Plain browser JavaScript, served as is by the gateway (no build
// step, no CDN, no framework). The official's personal certificate opens an officer session
// (POST /audit/session); its token, kept in memory only, authorises every call to
// /audit/graphql, the CSV export and the printable citizen report.

const $ = (selector, root = document) => root.querySelector(selector);
const el = (tag, attributes = {}, ...children) => {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') node.className = value;
    else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children.flat()) if (child !== undefined && child !== null) node.append(child instanceof Node ? child : String(child));
  return node;
};
const SVG = 'http://www.w3.org/2000/svg';
const svg = (tag, attributes = {}, ...children) => {
  const node = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, String(value));
  for (const child of children) node.append(child);
  return node;
};

const state = { session: null, me: null, agencies: new Map(), filter: {}, cursors: [null], page: 0, pageSize: 25, nextCursor: null, entries: [] };

function codedError(body) {
  const errors = body?.errors ?? [{ message: 'No answer.', extensions: { code: 'ERROR' } }];
  const error = new Error(errors.map((e) => `${e.extensions?.code ?? 'ERROR'}: ${e.message}`).join('; '));
  error.code = errors[0]?.extensions?.code;
  return error;
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
  if (!response.ok) throw codedError(body);
  state.session = body;
  clearTimeout(renewal);
  const remaining = Date.parse(body.expiresAt) - Date.now();
  renewal = setTimeout(() => void openSession().catch(() => undefined), Math.max(5_000, remaining * 0.8));
  return body;
}

/** POST with the session's token; a session that ended meanwhile (laptop asleep) is renewed once. */
async function authorised(path, init, retry = true) {
  const response = await fetch(path, { ...init, method: 'POST', headers: { ...init.headers, authorization: `Bearer ${state.session?.token ?? ''}` } });
  if (response.status === 401 && retry) {
    const body = await response.clone().json().catch(() => null);
    if (body?.errors?.[0]?.extensions?.code === 'TOKEN_EXPIRED') {
      await openSession();
      return authorised(path, init, false);
    }
  }
  return response;
}

async function gql(query, variables = {}) {
  const response = await authorised('/audit/graphql', { headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query, variables }) });
  const body = await response.json().catch(() => null);
  if (!body || body.errors?.length) throw codedError(body);
  return body.data;
}

const ENTRY_FIELDS = `id kind time requestId clientAgency { id name organisationNumber } official purpose legalBasis processingRegisterRef { recordId version }
  caseId subject field category owningAgency outcome outcomeCode operationName documentHash chainId seq hash`;

const agencyName = (id) => (id === '*' ? 'all agencies' : (state.agencies.get(id)?.name ?? id));
const isoDay = (d) => d.toISOString().slice(0, 10);

/** The filter of the search form, as the API takes it; `to` is inclusive in the form, exclusive in the API. */
function currentFilter() {
  const form = $('#search');
  const data = new FormData(form);
  const filter = {};
  for (const [key, value] of data) {
    const text = String(value).trim();
    if (!text) continue;
    if (key === 'to') filter.to = isoDay(new Date(Date.parse(text) + 86_400_000));
    else filter[key] = text;
  }
  return filter;
}

// ---- caller, agencies, chain ---------------------------------------------------------------

async function loadCaller() {
  const data = await gql(`{ me { agency { id name } role scope official officialName } agencies { id name organisationNumber } }`);
  state.me = data.me;
  for (const agency of data.agencies) state.agencies.set(agency.id, agency);
  $('#caller').textContent = `${data.me.officialName} (${data.me.official}) · ${data.me.agency.name} · ${data.me.role === 'SUPERVISOR' ? 'supervisory authority (all entries)' : 'privacy officer (entries where your agency is client or owner)'}`;
  for (const name of ['clientAgency', 'owningAgency']) {
    const select = $(`#search select[name="${name}"]`);
    for (const agency of data.agencies) select.append(el('option', { value: agency.id }, agency.name));
  }
  const purposes = ['CASE_HANDLING', 'PAYMENT_CONTROL', 'INFORMING_THE_INSURED', 'PLANNING_AND_FOLLOW_UP', 'STATISTICS', 'DUTY_TO_DISCLOSE'];
  for (const purpose of purposes) $('#search select[name="purpose"]').append(el('option', { value: purpose }, purpose.toLowerCase().replaceAll('_', ' ')));
  if (data.me.role === 'SUPERVISOR') {
    $('#kind-label').hidden = false;
    $('#tab-rules').hidden = false;
  }
}

async function verifyChain() {
  const badge = $('#chain-status');
  badge.className = 'badge';
  badge.textContent = 'Chain: verifying…';
  try {
    const { verification } = await gql(`{ verification { ok verifiedAt chains { chainId entries headSeq unanchoredEntries } firstBreak { chainId seq kind } } }`);
    const entries = verification.chains.reduce((sum, c) => sum + c.entries, 0);
    if (verification.ok) {
      badge.className = 'badge ok';
      badge.textContent = `Chain verified ✓ ${entries} entries in ${verification.chains.length} chain(s), ${verification.verifiedAt.slice(11, 19)} UTC`;
    } else {
      const b = verification.firstBreak;
      badge.className = 'badge bad';
      badge.textContent = `Chain BROKEN: ${b.kind} at ${b.chainId}:${b.seq}`;
    }
  } catch (error) {
    badge.className = 'badge bad';
    badge.textContent = `Chain: verification failed (${error.code ?? 'error'})`;
  }
}

// ---- search, table, paging -----------------------------------------------------------------

async function search(resetPaging = true) {
  $('#search-error').textContent = '';
  if (resetPaging) {
    state.filter = currentFilter();
    state.cursors = [null];
    state.page = 0;
  }
  const tbody = $('#results tbody');
  tbody.replaceChildren(el('tr', {}, el('td', { colspan: 9, class: 'muted' }, 'Loading…')));
  try {
    const data = await gql(`query Entries($filter: EntryFilter, $first: Int, $after: String) { entries(filter: $filter, first: $first, after: $after) { totalCount nextCursor entries { ${ENTRY_FIELDS} } } }`, {
      filter: state.filter,
      first: state.pageSize,
      after: state.cursors[state.page],
    });
    renderResults(data.entries);
    if (resetPaging) await drawChart();
  } catch (error) {
    tbody.replaceChildren(el('tr', {}, el('td', { colspan: 9, class: 'muted' }, 'No results.')));
    $('#search-error').textContent = error.message;
  }
}

function renderResults(page) {
  state.entries = page.entries;
  state.nextCursor = page.nextCursor;
  const first = state.page * state.pageSize;
  $('#count').textContent = `(${page.totalCount} matching)`;
  $('#page-info').textContent = page.totalCount === 0 ? 'No entries' : `${first + 1}–${first + page.entries.length} of ${page.totalCount}`;
  $('#prev').disabled = state.page === 0;
  $('#next').disabled = page.nextCursor === null;
  const rows = page.entries.map((entry) =>
    el(
      'tr',
      { class: `outcome-${entry.outcome.toLowerCase()}` },
      el('td', {}, el('button', { type: 'button', class: 'link', 'data-id': entry.id, 'aria-label': `Open entry ${entry.id}`, onclick: () => openDetail(entry) }, entry.time.replace('T', ' ').slice(0, 19))),
      el('td', {}, entry.clientAgency.name),
      el('td', {}, entry.official),
      el('td', {}, entry.purpose),
      el('td', {}, entry.caseId),
      el('td', { class: 'mono' }, entry.subject ?? '–'),
      el('td', { class: 'mono' }, entry.field),
      el('td', {}, agencyName(entry.owningAgency)),
      el('td', {}, el('span', { class: `pill ${entry.outcome.toLowerCase()}` }, entry.outcome.toLowerCase()), entry.outcomeCode ? ` ${entry.outcomeCode}` : ''),
    ),
  );
  $('#results tbody').replaceChildren(...(rows.length ? rows : [el('tr', {}, el('td', { colspan: 9, class: 'muted' }, 'No entries match.'))]));
}

function openDetail(entry) {
  const rows = [
    ['Id', entry.id],
    ['Kind', entry.kind === 'AUDIT_QUERY' ? 'audit query (someone read this log)' : 'partner access'],
    ['Time (UTC)', entry.time],
    ['Request id', entry.requestId],
    ['Client agency', `${entry.clientAgency.name} (${entry.clientAgency.organisationNumber})`],
    ['Official', entry.official],
    ['Purpose', entry.purpose],
    ['Legal basis', entry.legalBasis],
    ['Register of processing', `${entry.processingRegisterRef.recordId} v${entry.processingRegisterRef.version}`],
    ['Case', entry.caseId],
    ['Subject', entry.subject ?? '–'],
    ['Field', entry.field],
    ['Category', entry.category ?? '–'],
    ['Owning agency', agencyName(entry.owningAgency)],
    ['Outcome', `${entry.outcome.toLowerCase()}${entry.outcomeCode ? ` (${entry.outcomeCode})` : ''}`],
    [entry.kind === 'AUDIT_QUERY' ? 'Filter used' : 'Operation', entry.operationName ?? '–'],
    ['Document hash', entry.documentHash],
    ['Chain / seq', `${entry.chainId} / ${entry.seq}`],
    ['Entry hash', entry.hash],
  ];
  $('#detail-body').replaceChildren(...rows.flatMap(([term, value]) => [el('dt', {}, term), el('dd', { class: /hash|Id|Request/.test(term) ? 'mono' : '' }, value)]));
  $('#detail').hidden = false;
  $('#detail').dataset.returnTo = entry.id;
  $('#detail-heading').focus();
}

function closeDetail() {
  const detail = $('#detail');
  if (detail.hidden) return;
  detail.hidden = true;
  document.querySelector(`button[data-id="${CSS.escape(detail.dataset.returnTo ?? '')}"]`)?.focus();
}

/** Downloads the current filter as CSV: fetched with the session's token, saved from a blob. */
async function exportCsv() {
  $('#search-error').textContent = '';
  const filter = currentFilter();
  // The outcome and kind enums travel in the API's spelling; the export endpoint takes the log's.
  for (const key of ['outcome', 'kind']) if (filter[key]) filter[key] = filter[key].toLowerCase().replace('_', '-');
  try {
    const response = await authorised('/audit/export.csv', { headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(filter).toString() });
    if (!response.ok) throw codedError(await response.json().catch(() => null));
    const name = /filename="([^"]+)"/.exec(response.headers.get('content-disposition') ?? '')?.[1] ?? 'access-log.csv';
    const url = URL.createObjectURL(await response.blob());
    const link = el('a', { href: url, download: name, hidden: true });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  } catch (error) {
    $('#search-error').textContent = error.message;
  }
}

// ---- chart -----------------------------------------------------------------------------------

const COLOURS = ['#1f5fa8', '#d9822b', '#2e8b57', '#b23a48', '#7b5ea7', '#8c6d31', '#17808c', '#c2549d'];

async function drawChart() {
  const series = $('#series').value;
  const container = $('#chart');
  try {
    const { dailyVolume } = await gql(`query Volume($filter: EntryFilter, $series: VolumeSeries) { dailyVolume(filter: $filter, series: $series) { days series { key counts } } }`, { filter: state.filter, series });
    const { days } = dailyVolume;
    const label = series === 'PURPOSE' ? (k) => k : agencyName;
    if (days.length === 0) {
      container.replaceChildren(el('p', { class: 'muted' }, 'No entries in range.'));
      container.setAttribute('aria-label', 'No entries in range');
      $('#legend').replaceChildren();
      return;
    }
    const width = 760;
    const height = 170;
    const pad = { left: 40, right: 8, top: 8, bottom: 28 };
    const totals = days.map((_, i) => dailyVolume.series.reduce((sum, s) => sum + s.counts[i], 0));
    const max = Math.max(1, ...totals);
    const slot = (width - pad.left - pad.right) / days.length;
    const barWidth = Math.max(2, Math.min(48, slot * 0.7));
    const y = (value) => pad.top + (height - pad.top - pad.bottom) * (1 - value / max);
    const chart = svg('svg', { viewBox: `0 0 ${width} ${height}`, width: '100%', height, class: 'bars', 'aria-hidden': 'true' });
    chart.append(svg('line', { x1: pad.left, x2: width - pad.right, y1: y(0), y2: y(0), class: 'axis' }));
    chart.append(svg('text', { x: pad.left - 6, y: y(max) + 4, class: 'tick', 'text-anchor': 'end' }, document.createTextNode(String(max))));
    chart.append(svg('text', { x: pad.left - 6, y: y(0), class: 'tick', 'text-anchor': 'end' }, document.createTextNode('0')));
    days.forEach((day, i) => {
      let base = 0;
      const x = pad.left + slot * i + (slot - barWidth) / 2;
      dailyVolume.series.forEach((s, j) => {
        const count = s.counts[i];
        if (count === 0) return;
        const rect = svg('rect', { x, width: barWidth, y: y(base + count), height: y(base) - y(base + count), fill: COLOURS[j % COLOURS.length] });
        rect.append(svg('title', {}, document.createTextNode(`${day} · ${label(s.key)}: ${count}`)));
        chart.append(rect);
        base += count;
      });
      if (days.length <= 16 || i % Math.ceil(days.length / 12) === 0) {
        chart.append(svg('text', { x: x + barWidth / 2, y: height - 10, class: 'tick', 'text-anchor': 'middle' }, document.createTextNode(day.slice(5))));
      }
    });
    container.replaceChildren(chart);
    container.setAttribute('aria-label', `Entries per day by ${series.toLowerCase().replace('_', ' ')}: ${days.map((d, i) => `${d} ${totals[i]}`).join(', ')}`);
    $('#legend').replaceChildren(
      ...dailyVolume.series.map((s, j) => el('li', {}, el('span', { class: 'swatch', 'data-colour': j % COLOURS.length }), `${label(s.key)} (${s.counts.reduce((a, b) => a + b, 0)})`)),
    );
    for (const swatch of document.querySelectorAll('#legend .swatch')) swatch.style.background = COLOURS[Number(swatch.dataset.colour)];
  } catch (error) {
    container.replaceChildren(el('p', { class: 'error' }, error.message));
  }
}

// ---- anomalies -------------------------------------------------------------------------------

const ANOMALY_LABELS = {
  SUBJECTS_OUTSIDE_CASE: 'Reads of persons outside the case',
  MANY_SUBJECTS_IN_CASE: 'Many persons in one case',
  PROTECTED_IDENTITY_READ: 'Reads concerning protected identity',
  VOLUME_BURST: 'Volume far above the usual',
  UNUSUAL_HOURS: 'Reads at unusual hours',
};

async function evaluateAnomalies(event) {
  event?.preventDefault();
  $('#anomaly-error').textContent = '';
  const data = new FormData($('#anomaly-form'));
  const from = String(data.get('from') || '') || null;
  const toDay = String(data.get('to') || '');
  const to = toDay ? isoDay(new Date(Date.parse(toDay) + 86_400_000)) : null;
  const target = $('#anomalies');
  target.replaceChildren(el('p', { class: 'muted' }, 'Evaluating…'));
  try {
    const { anomalies } = await gql(
      `query Anomalies($from: String, $to: String) { anomalies(from: $from, to: $to) { from to complete flags { kind clientAgency { name } official caseId day value threshold entryCount entries { ${ENTRY_FIELDS} } } } }`,
      { from, to },
    );
    const header = el('p', { class: 'muted' }, `${anomalies.flags.length} flag(s) between ${anomalies.from.slice(0, 10)} and ${anomalies.to.slice(0, 10)}${anomalies.complete ? '' : ' (partial: entry limit reached)'}.`);
    const cards = anomalies.flags.map((flag, index) => {
      const list = el('div', { id: `flag-${index}`, hidden: true });
      const toggle = el('button', { type: 'button', 'aria-expanded': 'false', 'aria-controls': `flag-${index}` }, `Show ${flag.entryCount} entries`);
      toggle.addEventListener('click', () => {
        const open = list.hidden;
        list.hidden = !open;
        toggle.setAttribute('aria-expanded', String(open));
        toggle.textContent = `${open ? 'Hide' : 'Show'} ${flag.entryCount} entries`;
        if (open && !list.firstChild) {
          list.append(
            el('table', { class: 'compact' },
              el('thead', {}, el('tr', {}, ['Time (UTC)', 'Case', 'Subject', 'Field', 'Outcome'].map((h) => el('th', { scope: 'col' }, h)))),
              el('tbody', {}, flag.entries.map((entry) => el('tr', {}, el('td', {}, el('button', { type: 'button', class: 'link', onclick: () => { selectTab('search'); openDetail(entry); } }, entry.time.replace('T', ' ').slice(0, 19))), el('td', {}, entry.caseId), el('td', { class: 'mono' }, entry.subject ?? '–'), el('td', { class: 'mono' }, entry.field), el('td', {}, `${entry.outcome.toLowerCase()} ${entry.outcomeCode ?? ''}`)))),
            ),
          );
        }
      });
      return el('article', { class: 'flag' },
        el('h3', {}, ANOMALY_LABELS[flag.kind] ?? flag.kind),
        el('p', {}, `${flag.clientAgency.name} · official ${flag.official}${flag.caseId ? ` · case ${flag.caseId}` : ''}${flag.day ? ` · ${flag.day}` : ''} — measured ${flag.value}, threshold ${flag.threshold}`),
        toggle,
        list,
      );
    });
    target.replaceChildren(header, ...(cards.length ? cards : [el('p', {}, 'No anomalies flagged.')]));
  } catch (error) {
    target.replaceChildren();
    $('#anomaly-error').textContent = error.message;
  }
}

// ---- citizen report and rules --------------------------------------------------------------

async function showReport() {
  $('#report-error').textContent = '';
  const personnummer = $('#report-form input[name="personnummer"]').value.trim();
  const target = $('#report');
  try {
    const { citizenReport: report } = await gql(
      `query Report($p: String!) { citizenReport(personnummer: $p) { subject generatedAt summary { agency { name } category purpose legalBasis reads firstRead lastRead } reads { time } heldBack { rule { id holdUntil reason } entries } } }`,
      { p: personnummer },
    );
    target.replaceChildren(
      el('h3', {}, `${report.reads.length} read(s) of ${report.subject}`),
      report.summary.length
        ? el('table', { class: 'compact' },
            el('thead', {}, el('tr', {}, ['Agency', 'Category', 'Purpose', 'Legal basis', 'Reads', 'First', 'Last'].map((h) => el('th', { scope: 'col' }, h)))),
            el('tbody', {}, report.summary.map((s) => el('tr', {}, el('td', {}, s.agency.name), el('td', {}, s.category), el('td', {}, s.purpose), el('td', {}, s.legalBasis), el('td', {}, s.reads), el('td', {}, s.firstRead.slice(0, 10)), el('td', {}, s.lastRead.slice(0, 10))))),
          )
        : el('p', {}, 'No reads recorded.'),
      report.heldBack.length
        ? el('div', { class: 'held' }, el('h4', {}, 'Held back (visible to the supervisor only)'), el('ul', {}, report.heldBack.map((h) => el('li', {}, `${h.entries} entr${h.entries === 1 ? 'y' : 'ies'} under rule ${h.rule.id} until ${h.rule.holdUntil}: ${h.rule.reason}`))))
        : '',
    );
  } catch (error) {
    target.replaceChildren();
    $('#report-error').textContent = error.message;
  }
}

async function loadRules() {
  try {
    const { confidentialityRules } = await gql(`{ confidentialityRules { id purpose clientAgency casePattern holdUntil reason } }`);
    $('#rules').replaceChildren(
      el('table', { class: 'compact' },
        el('thead', {}, el('tr', {}, ['Rule', 'Purpose', 'Client agency', 'Case pattern', 'Held until', 'Reason'].map((h) => el('th', { scope: 'col' }, h)))),
        el('tbody', {}, confidentialityRules.map((r) => el('tr', {}, el('td', {}, r.id), el('td', {}, r.purpose ?? 'any'), el('td', {}, r.clientAgency ? agencyName(r.clientAgency) : 'any'), el('td', { class: 'mono' }, r.casePattern ?? 'any'), el('td', {}, r.holdUntil), el('td', {}, r.reason)))),
      ),
    );
  } catch (error) {
    $('#rules').replaceChildren(el('p', { class: 'error' }, error.message));
  }
}

// ---- tabs and keyboard -----------------------------------------------------------------------

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
  return TABS.filter((t) => !$(`#tab-${t}`).hidden);
}

function init() {
  $('#search').addEventListener('submit', (event) => {
    event.preventDefault();
    void search(true);
  });
  $('#search').addEventListener('reset', () => setTimeout(() => void search(true)));
  $('#do-export').addEventListener('click', exportCsv);
  $('#prev').addEventListener('click', () => {
    state.page = Math.max(0, state.page - 1);
    void search(false);
  });
  $('#next').addEventListener('click', () => {
    if (state.nextCursor === null) return;
    state.cursors[state.page + 1] = state.nextCursor;
    state.page += 1;
    void search(false);
  });
  $('#page-size').addEventListener('change', () => {
    state.pageSize = Number($('#page-size').value);
    void search(true);
  });
  $('#series').addEventListener('change', () => void drawChart());
  $('#verify').addEventListener('click', () => void verifyChain());
  $('#detail-close').addEventListener('click', closeDetail);
  document.addEventListener('keydown', (event) => {
    if (event.key === 'Escape') closeDetail();
  });
  for (const tab of TABS) $(`#tab-${tab}`).addEventListener('click', () => selectTab(tab));
  $('.tabs').addEventListener('keydown', (event) => {
    if (event.key !== 'ArrowRight' && event.key !== 'ArrowLeft') return;
    const tabs = visibleTabs();
    const current = tabs.findIndex((t) => $(`#tab-${t}`).getAttribute('aria-selected') === 'true');
    const next = tabs[(current + (event.key === 'ArrowRight' ? 1 : tabs.length - 1)) % tabs.length];
    selectTab(next, true);
  });
  $('#anomaly-form').addEventListener('submit', evaluateAnomalies);
  $('#report-show').addEventListener('click', () => void showReport());
  // The printable page opens in a new tab, where no header can be set: the token goes as a field.
  $('#report-form').addEventListener('submit', () => {
    $('#report-form input[name="token"]').value = state.session?.token ?? '';
  });
  // Nothing is searched before the session exists: every query is logged under the verified official.
  openSession()
    .then(loadCaller)
    .then(() => Promise.all([search(true), verifyChain()]))
    .catch((error) => {
      $('#caller').textContent = `Not authorised: ${error.message}`;
    });
}

init();
