// The console's words in Swedish (the default) and English, and times in the gateway's time zone.
// Names of fields, purposes, categories, outcomes and kinds are not here: they come from the
// schemas' descriptions through the API (`vocabulary`), so each has one source of truth.

export const LANGUAGES = ['sv', 'en'];

const TEXTS = {
  sv: {
    'app.title': 'Granskning av åtkomstloggen',
    'app.skip': 'Hoppa till resultaten',
    'app.connecting': 'Ansluter…',
    'app.switch': 'English',
    'app.switchLabel': 'Switch to English',
    'app.scope.SUPERVISOR': 'ser alla poster',
    'app.scope.PRIVACY_OFFICER': 'ser poster där {agency} lämnat eller tagit emot uppgifter',
    'app.sessionLost': 'Sessionen kunde inte förnyas ({code}). Ladda om sidan.',
    'chain.pending': 'Loggen: inte kontrollerad',
    'chain.checking': 'Loggen: kontrolleras…',
    'chain.ok': 'Kedjan obruten ✓ {entries} poster · {time}',
    'chain.detail': '{chains} kedja/kedjor; {unanchored} poster ännu utan signerad kontrollpunkt',
    'chain.broken': 'Kedjan BRUTEN: {kind} vid {chain}:{seq}',
    'chain.failed': 'Loggen kunde inte kontrolleras ({code})',
    'chain.verify': 'Kontrollera loggen',
    'log.ok': 'Loggen verifierad ✓ {time} t.o.m. kontrollpunkt {size} · medsignerad av {k} av {q} vittnen',
    'log.okNoWitnesses': 'Loggen verifierad ✓ {time} t.o.m. kontrollpunkt {size} · inga vittnen',
    'log.refreshing': '{badge} · kontrolleras på nytt…',
    'log.treeBroken': 'Trädet i {chain} verifierar INTE: {problem} · kontrollerat {time}',
    'log.quorumMissing': 'Vittneskvorum SAKNAS i {chain}: {k} av {q} vittnen har medsignerat kontrollpunkt {size}',
    'log.detail': '{chain}: trädet verifierat {verified} t.o.m. kontrollpunkt {verifiedSize}; kontrollpunkt {size} medsignerad av {witnesses}; senaste kontrollpunkt {newest}, {time}',
    'tab.search': 'Sök',
    'tab.anomalies': 'Avvikelser',
    'tab.report': 'Registerutdrag',
    'tab.rules': 'Sekretessregler',
    'filter.heading': 'Filter',
    'filter.subject': 'Personnummer',
    'filter.subjectHint': 'ÅÅÅÅMMDD-NNNN',
    'filter.clientAgency': 'Mottagande myndighet',
    'filter.owningAgency': 'Ägande myndighet',
    'filter.purpose': 'Ändamål',
    'filter.caseId': 'Ärende',
    'filter.official': 'Handläggare',
    'filter.field': 'Uppgift',
    'filter.outcome': 'Utfall',
    'filter.kind': 'Slag av post',
    'filter.from': 'Från och med',
    'filter.to': 'Till och med',
    'filter.any': 'alla',
    'filter.search': 'Sök',
    'filter.clear': 'Rensa',
    'results.heading': 'Poster',
    'results.idle': 'Ange ett filter och sök.',
    'results.loading': 'Söker…',
    'results.none': 'Inga poster matchar filtret.',
    'results.notShown': 'Inga poster visas: se felet ovan.',
    'results.count': '{total} träffar',
    'results.range': 'visar {first}–{last} av {total}',
    'results.asOf': 'läst {time}',
    'results.sortedPage': 'Sorteringen gäller sidan som visas.',
    'results.prev': '← Föregående',
    'results.next': 'Nästa →',
    'results.perPage': 'Per sida',
    'results.export': 'Exportera CSV',
    'results.exportIncomplete': 'Exporten innehåller de första {count} posterna (gränsen för en export).',
    'col.time': 'Tid',
    'col.client': 'Mottagare',
    'col.official': 'Handläggare',
    'col.purpose': 'Ändamål',
    'col.case': 'Ärende',
    'col.subject': 'Personnummer',
    'col.field': 'Uppgift',
    'col.owner': 'Ägare',
    'col.outcome': 'Utfall',
    'col.sortBy': 'Sortera efter {column}',
    'chart.title': 'Poster per dygn (UTC)',
    'chart.by': 'efter',
    'chart.PURPOSE': 'ändamål',
    'chart.CLIENT_AGENCY': 'mottagande myndighet',
    'chart.OWNING_AGENCY': 'ägande myndighet',
    'chart.empty': 'Inga poster att visa.',
    'chart.label': 'Poster per dygn: {days}',
    'detail.heading': 'Post',
    'detail.close': 'Stäng',
    'detail.closeLabel': 'Stäng posten (Esc)',
    'detail.id': 'Id',
    'detail.kind': 'Slag',
    'detail.time': 'Tid (svensk tid)',
    'detail.timeUtc': 'Tid (UTC)',
    'detail.requestId': 'Begärans id',
    'detail.clientAgency': 'Mottagande myndighet',
    'detail.official': 'Handläggare',
    'detail.purpose': 'Ändamål',
    'detail.legalBasis': 'Rättslig grund',
    'detail.register': 'Registerförteckning',
    'detail.case': 'Ärende',
    'detail.subject': 'Personnummer',
    'detail.field': 'Uppgift',
    'detail.category': 'Slags uppgifter',
    'detail.owner': 'Ägande myndighet',
    'detail.outcome': 'Utfall',
    'detail.operation': 'Operation',
    'detail.filterUsed': 'Använt filter',
    'detail.documentHash': 'Dokumentets hash',
    'detail.chain': 'Kedja / nummer',
    'detail.hash': 'Postens hash',
    'outcomeCode.SUBJECT_NOT_IN_CASE': 'personen ingår inte i ärendet',
    'outcomeCode.PROTECTED_IDENTITY': 'skyddade personuppgifter',
    'outcomeCode.PURPOSE_NOT_ALLOWED': 'ändamålet är inte tillåtet för uppgiften',
    'outcomeCode.NO_AGREEMENT': 'inget avtal om utlämnande',
    'anomalies.from': 'Från och med',
    'anomalies.to': 'Till och med',
    'anomalies.evaluate': 'Utvärdera',
    'anomalies.window': 'Tomma datum: de senaste dagarna enligt inställningen.',
    'anomalies.evaluating': 'Utvärderar…',
    'anomalies.summary': '{count} avvikelse(r) mellan {from} och {to}',
    'anomalies.partial': '(ofullständig: gränsen för antal poster nåddes)',
    'anomalies.none': 'Inga avvikelser.',
    'anomalies.measured': 'uppmätt {value}, gräns {threshold}',
    'anomalies.official': 'handläggare {official}',
    'anomalies.case': 'ärende {case}',
    'anomalies.show': 'Visa {count} poster',
    'anomalies.hide': 'Dölj {count} poster',
    'report.personnummer': 'Personnummer',
    'report.show': 'Visa utdrag',
    'report.print': 'Öppna utskriftsvänlig sida',
    'report.intro':
      'Registerutdrag enligt artikel 15 i dataskyddsförordningen: vilka myndigheter som läst vilka slags uppgifter om personen, när, varför och med vilket rättsligt stöd. Handläggare visas bara som myndighet.',
    'report.reads': '{count} läsning(ar) av uppgifter om {subject}',
    'report.scopeAgency': 'Utdraget omfattar bara läsningar där {agency} har lämnat eller tagit emot uppgifterna. Andra myndigheters läsningar redovisas av dem.',
    'report.scopeAll': 'Utdraget omfattar alla anslutna myndigheters läsningar.',
    'report.none': 'Inga läsningar registrerade.',
    'report.col.agency': 'Myndighet som läste',
    'report.col.category': 'Slags uppgifter',
    'report.col.purpose': 'Ändamål',
    'report.col.basis': 'Rättslig grund',
    'report.col.reads': 'Antal',
    'report.col.first': 'Första',
    'report.col.last': 'Senaste',
    'report.heldBack': 'Undanhållet (syns bara för tillsynsmyndigheten)',
    'report.heldBackItem': '{count} post(er) enligt regel {rule} till {until}: {reason}',
    'rules.intro': 'Poster som matchar en regel hålls undan från registerutdrag till regelns datum.',
    'rules.col.rule': 'Regel',
    'rules.col.purpose': 'Ändamål',
    'rules.col.client': 'Mottagande myndighet',
    'rules.col.case': 'Ärendemönster',
    'rules.col.until': 'Undanhålls till',
    'rules.col.reason': 'Skäl',
    'rules.any': 'alla',
    'error.subject': 'Personnumret är inte giltigt. Skriv tolv siffror, ÅÅÅÅMMDDNNNN, med eller utan bindestreck.',
    'error.from': 'Datumet ”från och med” är inte giltigt.',
    'error.to': 'Datumet ”till och med” är inte giltigt.',
    'error.range': '”Från och med” ligger efter ”till och med”.',
    'error.personnummer': 'Personnumret är inte giltigt. Skriv tolv siffror, ÅÅÅÅMMDDNNNN, med eller utan bindestreck.',
    'error.ROLE_NOT_ALLOWED': 'Din roll ger inte tillgång till detta.',
    'error.ACCESS_LOG_UNAVAILABLE': 'Åtkomstloggen är inte tillgänglig just nu. Försök igen om en stund.',
    'error.session': 'Sessionen har upphört ({code}). Ladda om sidan.',
    'error.other': 'Något gick fel ({code}). Försök igen.',
    'error.reference': 'Felkod {code}, begärans id {requestId}',
  },
  en: {
    'app.title': 'Access log audit',
    'app.skip': 'Skip to the results',
    'app.connecting': 'Connecting…',
    'app.switch': 'Svenska',
    'app.switchLabel': 'Byt till svenska',
    'app.scope.SUPERVISOR': 'sees every entry',
    'app.scope.PRIVACY_OFFICER': 'sees entries where {agency} disclosed or received the data',
    'app.sessionLost': 'The session could not be renewed ({code}). Reload the page.',
    'chain.pending': 'Log: not checked yet',
    'chain.checking': 'Log: checking…',
    'chain.ok': 'Chain intact ✓ {entries} entries · {time}',
    'chain.detail': '{chains} chain(s); {unanchored} entries not yet under a signed checkpoint',
    'chain.broken': 'Chain BROKEN: {kind} at {chain}:{seq}',
    'chain.failed': 'The log could not be checked ({code})',
    'chain.verify': 'Check the log',
    'log.ok': 'Log verified ✓ {time} up to checkpoint {size} · cosigned by {k} of {q} witnesses',
    'log.okNoWitnesses': 'Log verified ✓ {time} up to checkpoint {size} · no witnesses',
    'log.refreshing': '{badge} · re-checking…',
    'log.treeBroken': 'The tree of {chain} does NOT verify: {problem} · checked {time}',
    'log.quorumMissing': 'Witness quorum MISSING in {chain}: {k} of {q} witnesses cosigned checkpoint {size}',
    'log.detail': '{chain}: tree verified {verified} up to checkpoint {verifiedSize}; checkpoint {size} cosigned by {witnesses}; newest checkpoint {newest}, {time}',
    'tab.search': 'Search',
    'tab.anomalies': 'Anomalies',
    'tab.report': 'Register extract',
    'tab.rules': 'Confidentiality rules',
    'filter.heading': 'Filter',
    'filter.subject': 'Personal identity number',
    'filter.subjectHint': 'YYYYMMDD-NNNN',
    'filter.clientAgency': 'Receiving agency',
    'filter.owningAgency': 'Owning agency',
    'filter.purpose': 'Purpose',
    'filter.caseId': 'Case',
    'filter.official': 'Official',
    'filter.field': 'Data',
    'filter.outcome': 'Outcome',
    'filter.kind': 'Kind of entry',
    'filter.from': 'From',
    'filter.to': 'To (inclusive)',
    'filter.any': 'any',
    'filter.search': 'Search',
    'filter.clear': 'Clear',
    'results.heading': 'Entries',
    'results.idle': 'Set a filter and search.',
    'results.loading': 'Searching…',
    'results.none': 'No entries match the filter.',
    'results.notShown': 'No entries shown: see the error above.',
    'results.count': '{total} matching',
    'results.range': 'showing {first}–{last} of {total}',
    'results.asOf': 'read {time}',
    'results.sortedPage': 'Sorting applies to the page shown.',
    'results.prev': '← Previous',
    'results.next': 'Next →',
    'results.perPage': 'Per page',
    'results.export': 'Export CSV',
    'results.exportIncomplete': 'The export holds the first {count} entries (the limit of one export).',
    'col.time': 'Time',
    'col.client': 'Receiver',
    'col.official': 'Official',
    'col.purpose': 'Purpose',
    'col.case': 'Case',
    'col.subject': 'Identity number',
    'col.field': 'Data',
    'col.owner': 'Owner',
    'col.outcome': 'Outcome',
    'col.sortBy': 'Sort by {column}',
    'chart.title': 'Entries per day (UTC)',
    'chart.by': 'by',
    'chart.PURPOSE': 'purpose',
    'chart.CLIENT_AGENCY': 'receiving agency',
    'chart.OWNING_AGENCY': 'owning agency',
    'chart.empty': 'No entries to show.',
    'chart.label': 'Entries per day: {days}',
    'detail.heading': 'Entry',
    'detail.close': 'Close',
    'detail.closeLabel': 'Close the entry (Esc)',
    'detail.id': 'Id',
    'detail.kind': 'Kind',
    'detail.time': 'Time (Swedish time)',
    'detail.timeUtc': 'Time (UTC)',
    'detail.requestId': 'Request id',
    'detail.clientAgency': 'Receiving agency',
    'detail.official': 'Official',
    'detail.purpose': 'Purpose',
    'detail.legalBasis': 'Legal basis',
    'detail.register': 'Record of processing',
    'detail.case': 'Case',
    'detail.subject': 'Identity number',
    'detail.field': 'Data',
    'detail.category': 'Kind of data',
    'detail.owner': 'Owning agency',
    'detail.outcome': 'Outcome',
    'detail.operation': 'Operation',
    'detail.filterUsed': 'Filter used',
    'detail.documentHash': 'Document hash',
    'detail.chain': 'Chain / number',
    'detail.hash': 'Entry hash',
    'outcomeCode.SUBJECT_NOT_IN_CASE': 'the person is not a subject of the case',
    'outcomeCode.PROTECTED_IDENTITY': 'protected identity',
    'outcomeCode.PURPOSE_NOT_ALLOWED': 'the purpose is not allowed for the data',
    'outcomeCode.NO_AGREEMENT': 'no disclosure agreement',
    'anomalies.from': 'From',
    'anomalies.to': 'To (inclusive)',
    'anomalies.evaluate': 'Evaluate',
    'anomalies.window': 'Empty dates: the configured number of days up to now.',
    'anomalies.evaluating': 'Evaluating…',
    'anomalies.summary': '{count} anomaly flag(s) between {from} and {to}',
    'anomalies.partial': '(partial: the entry limit was reached)',
    'anomalies.none': 'No anomalies flagged.',
    'anomalies.measured': 'measured {value}, threshold {threshold}',
    'anomalies.official': 'official {official}',
    'anomalies.case': 'case {case}',
    'anomalies.show': 'Show {count} entries',
    'anomalies.hide': 'Hide {count} entries',
    'report.personnummer': 'Personal identity number',
    'report.show': 'Show extract',
    'report.print': 'Open printable page',
    'report.intro': 'Register extract under Article 15 GDPR: which agencies read which kinds of data about the person, when, why and on which legal basis. Officials are shown only as their agency.',
    'report.reads': '{count} read(s) of data about {subject}',
    'report.scopeAgency': "The extract covers only reads where {agency} disclosed or received the data. Other agencies' reads are reported by them.",
    'report.scopeAll': "The extract covers every member agency's reads.",
    'report.none': 'No reads recorded.',
    'report.col.agency': 'Agency that read',
    'report.col.category': 'Kind of data',
    'report.col.purpose': 'Purpose',
    'report.col.basis': 'Legal basis',
    'report.col.reads': 'Reads',
    'report.col.first': 'First',
    'report.col.last': 'Latest',
    'report.heldBack': 'Held back (visible to the supervisor only)',
    'report.heldBackItem': '{count} entr(y/ies) under rule {rule} until {until}: {reason}',
    'rules.intro': "Entries matching a rule are held back from register extracts until the rule's date.",
    'rules.col.rule': 'Rule',
    'rules.col.purpose': 'Purpose',
    'rules.col.client': 'Receiving agency',
    'rules.col.case': 'Case pattern',
    'rules.col.until': 'Held until',
    'rules.col.reason': 'Reason',
    'rules.any': 'any',
    'error.subject': 'The identity number is not valid. Write twelve digits, YYYYMMDDNNNN, with or without a hyphen.',
    'error.from': 'The "from" date is not valid.',
    'error.to': 'The "to" date is not valid.',
    'error.range': '"From" is after "to".',
    'error.personnummer': 'The identity number is not valid. Write twelve digits, YYYYMMDDNNNN, with or without a hyphen.',
    'error.ROLE_NOT_ALLOWED': 'Your role does not give access to this.',
    'error.ACCESS_LOG_UNAVAILABLE': 'The access log is unavailable right now. Try again in a while.',
    'error.session': 'The session has ended ({code}). Reload the page.',
    'error.other': 'Something went wrong ({code}). Try again.',
    'error.reference': 'Error code {code}, request id {requestId}',
  },
};

let language = 'sv';

export function setLanguage(next) {
  language = LANGUAGES.includes(next) ? next : 'sv';
  document.documentElement.lang = language;
}

export function currentLanguage() {
  return language;
}

/** The text for `key` in the current language, `{name}` replaced from `values`. */
export function t(key, values = {}) {
  const text = TEXTS[language][key] ?? TEXTS.sv[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => String(values[name] ?? ''));
}

/** Whether the dictionary has a text for `key` (outcome codes without one are shown as they are). */
export function has(key) {
  return key in TEXTS[language];
}

/** Sets the text of every element with `data-i18n` (and `data-i18n-placeholder`, `data-i18n-label`). */
export function translateStatic(root = document) {
  for (const node of root.querySelectorAll('[data-i18n]')) node.textContent = t(node.dataset.i18n);
  for (const node of root.querySelectorAll('[data-i18n-placeholder]')) node.setAttribute('placeholder', t(node.dataset.i18nPlaceholder));
  for (const node of root.querySelectorAll('[data-i18n-label]')) node.setAttribute('aria-label', t(node.dataset.i18nLabel));
}

// ---- time: shown in the gateway's time zone (Europe/Stockholm), ISO order in both languages -----

let timeZone = 'Europe/Stockholm';

export function setTimeZone(zone) {
  timeZone = zone;
}

const formats = new Map();
function format(options) {
  const key = JSON.stringify(options) + timeZone;
  if (!formats.has(key)) formats.set(key, new Intl.DateTimeFormat('sv-SE', { timeZone, ...options }));
  return formats.get(key);
}

/** `2026-03-01 11:05` (or with seconds) in the time zone. */
export function localTime(iso, seconds = false) {
  return format({ year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', ...(seconds ? { second: '2-digit' } : {}) }).format(new Date(iso));
}

export function localDate(iso) {
  return format({ year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date(iso));
}

/** Milliseconds the time zone is ahead of UTC at `date`. */
function offset(date) {
  const parts = Object.fromEntries(
    format({ year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' })
      .formatToParts(date)
      .map((p) => [p.type, p.value]),
  );
  return Date.UTC(Number(parts.year), Number(parts.month) - 1, Number(parts.day), Number(parts.hour), Number(parts.minute), Number(parts.second)) - Math.floor(date.getTime() / 1000) * 1000;
}

/** The UTC instant at which the local calendar day `YYYY-MM-DD` begins (plus `days`), ISO 8601; null for no date. */
export function startOfLocalDay(isoDate, days = 0) {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(isoDate);
  if (!match) return null;
  const wall = Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3]) + days);
  if (Number.isNaN(wall)) return null;
  // Twice: the offset at the first guess may differ from the offset at the answer (a DST change that night).
  let instant = wall - offset(new Date(wall));
  instant = wall - offset(new Date(instant));
  return new Date(instant).toISOString();
}
