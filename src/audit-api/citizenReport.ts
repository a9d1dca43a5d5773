import type { StoredEntry } from '../audit/entry.js';
import { proveEntries, signReport, type ProofOptions, type ReportProofs } from '../audit/reportProofs.js';
import type { AccessLogStore } from '../audit/store/AccessLogStore.js';
import type { ReportVerification } from '../audit/verifyReport.js';
import type { AgencyRegistry } from '../identity/index.js';
import type { PersonalFieldCatalogue } from '../policy/personalFieldCatalogue.js';
import type { ConfidentialityRule } from '../config/auditApiConfig.js';
import { labeller, type Vocabulary } from './vocabulary.js';

/**
 * The citizen's register extract (registerutdrag) of reads of their data, GDPR art. 15.1 a–c:
 * which agencies read which categories of data, when, for what purpose and on which legal
 * basis. Officials appear only as their agency: the right of access covers the recipients,
 * not the names of employees, and naming them would expose the officials. Only released
 * fields are listed; a withheld or denied field was never disclosed.
 *
 * Entries matching a confidentiality rule (art. 23 GDPR, OSL 17 kap. / 18 kap.: e.g. an
 * ongoing fraud investigation) are held back until the rule's disclosure date. The citizen's
 * report does not say that anything was held back; the supervisor's copy does.
 */

export interface CitizenReportRead {
  readonly time: string;
  readonly agency: { readonly id: string; readonly name: string };
  readonly owningAgency: { readonly id: string; readonly name: string };
  readonly field: string;
  readonly category: string;
  readonly purpose: string;
  readonly legalBasis: string;
  /** Where the read's entry is in the log: what its proof is about. */
  readonly entry: { readonly chainId: string; readonly seq: number };
}

export interface CitizenReportSummary {
  readonly agency: { readonly id: string; readonly name: string };
  readonly category: string;
  readonly purpose: string;
  readonly legalBasis: string;
  readonly reads: number;
  readonly firstRead: string;
  readonly lastRead: string;
}

export interface HeldBack {
  readonly rule: ConfidentialityRule;
  readonly entries: number;
}

export interface CitizenReport {
  readonly subject: string;
  readonly generatedAt: string;
  /**
   * Whose processing the report covers: one agency's (a privacy officer's extract: the reads its
   * agency made or answered) or, when null, every agency's (the supervisor's).
   */
  readonly scope: { readonly agency: { readonly id: string; readonly name: string } | null };
  readonly reads: readonly CitizenReportRead[];
  readonly summary: readonly CitizenReportSummary[];
  /** Filled in for the supervisor only. */
  readonly heldBack: readonly HeldBack[];
  /** Per read its inclusion proof, and the cosigned checkpoints: see withProofs. */
  readonly proofs?: ReportProofs;
  /** The log's signed note over everything above; verify with `npm run audit -- verify-report`. */
  readonly signature?: string;
}

/** The rule that holds an entry back on `today` (ISO date), if any. */
export function holdingRule(entry: StoredEntry, rules: readonly ConfidentialityRule[], today: string): ConfidentialityRule | undefined {
  return rules.find(
    (rule) =>
      today < rule.holdUntil &&
      (rule.purpose === undefined || rule.purpose === entry.purpose) &&
      (rule.clientAgency === undefined || rule.clientAgency === entry.clientAgencyId) &&
      (rule.casePattern === undefined || new RegExp(rule.casePattern).test(entry.caseId)),
  );
}

export function buildCitizenReport(input: {
  readonly subject: string;
  /** The subject's entries, time order. */
  readonly entries: readonly StoredEntry[];
  readonly rules: readonly ConfidentialityRule[];
  readonly registry: AgencyRegistry;
  readonly catalogue: PersonalFieldCatalogue;
  readonly now: Date;
  readonly showHeldBack: boolean;
  /** The agency a privacy officer's extract is limited to; null for the supervisor's. */
  readonly scopeAgency: string | null;
}): CitizenReport {
  const today = input.now.toISOString().slice(0, 10);
  const agency = (id: string) => ({ id, name: input.registry.byId(id)?.name ?? id });
  const heldBack = new Map<string, HeldBack>();
  const reads: CitizenReportRead[] = [];
  for (const entry of input.entries) {
    if (entry.kind !== 'access' || entry.outcome !== 'released') continue;
    const rule = holdingRule(entry, input.rules, today);
    if (rule) {
      heldBack.set(rule.id, { rule, entries: (heldBack.get(rule.id)?.entries ?? 0) + 1 });
      continue;
    }
    reads.push({
      time: entry.time,
      agency: agency(entry.clientAgencyId),
      owningAgency: agency(entry.owningAgency),
      field: entry.field,
      category: input.catalogue.fields.get(entry.field)?.category ?? 'UNCATALOGUED',
      purpose: entry.purpose,
      legalBasis: entry.legalBasis,
      entry: { chainId: entry.chainId, seq: entry.seq },
    });
  }
  const summary = new Map<string, { agency: { id: string; name: string }; category: string; purpose: string; legalBasis: string; reads: number; firstRead: string; lastRead: string }>();
  for (const read of reads) {
    const key = [read.agency.id, read.category, read.purpose, read.legalBasis].join('\u0000');
    const row = summary.get(key);
    if (row) {
      row.reads += 1;
      if (read.time < row.firstRead) row.firstRead = read.time;
      if (read.time > row.lastRead) row.lastRead = read.time;
    } else {
      summary.set(key, { agency: read.agency, category: read.category, purpose: read.purpose, legalBasis: read.legalBasis, reads: 1, firstRead: read.time, lastRead: read.time });
    }
  }
  return {
    subject: input.subject,
    generatedAt: input.now.toISOString(),
    scope: { agency: input.scopeAgency === null ? null : agency(input.scopeAgency) },
    reads,
    summary: [...summary.values()].sort((a, b) => a.agency.name.localeCompare(b.agency.name, 'sv') || a.category.localeCompare(b.category)),
    heldBack: input.showHeldBack ? [...heldBack.values()] : [],
  };
}

/**
 * The report with its proofs, signed by the log: what lets a citizen (or anyone they hand it to)
 * check offline that every read is in the log the witnesses saw, and that nothing was edited.
 * `entries` must contain the entry of every read.
 */
export async function withProofs(report: CitizenReport, entries: readonly StoredEntry[], store: AccessLogStore, options: ProofOptions): Promise<CitizenReport> {
  const byPlace = new Map(entries.map((entry) => [`${entry.chainId}\u0000${entry.seq}`, entry]));
  const readEntries = report.reads.map((read) => {
    const entry = byPlace.get(`${read.entry.chainId}\u0000${read.entry.seq}`);
    if (!entry) throw new TypeError(`withProofs: no entry for chain ${read.entry.chainId} seq ${read.entry.seq}`);
    return entry;
  });
  const unsigned: CitizenReport = { ...report, proofs: await proveEntries(store, readEntries, options) };
  return { ...unsigned, signature: signReport(unsigned, options.signer) };
}

/** What the printable page says of the proofs: checked by the same verifier a citizen runs. */
function verificationLine(verification: ReportVerification | null | undefined, t: (typeof TEXTS)['sv' | 'en']): string {
  if (!verification) return '';
  if (!verification.ok) return `<p class="verification" data-verified="false">${escapeHtml(t.unverified(verification.code))}</p>\n`;
  const witnesses = [...new Set(verification.checkpoints.flatMap((c) => c.witnesses))].join(', ') || '–';
  return `<p class="verification" data-verified="true">${escapeHtml(t.verified(verification.proved, witnesses, verification.pending))}</p>\n`;
}

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const TEXTS = {
  sv: {
    title: 'Registerutdrag – läsningar av personuppgifter',
    heading: 'Registerutdrag: vilka myndigheter har läst dina uppgifter',
    lede: 'Utdrag enligt artikel 15 i dataskyddsförordningen: vilka myndigheter som har läst uppgifter om dig genom myndigheternas informationsutbyte, när, varför och med vilket rättsligt stöd.',
    personnummer: 'Personnummer',
    produced: 'Framställt',
    reads: 'Antal läsningar',
    covers: 'Omfattning',
    coversAll: 'Alla anslutna myndigheters läsningar.',
    coversAgency: (name: string) =>
      `Endast läsningar där ${name} har lämnat eller tagit emot uppgifterna. Andra myndigheters läsningar redovisas av respektive myndighet; Integritetsskyddsmyndigheten kan ta fram en sammanställning över alla.`,
    summary: 'Sammanfattning',
    none: 'Inga läsningar registrerade.',
    every: 'Alla läsningar',
    columns: {
      agency: 'Myndighet som läste',
      category: 'Slags uppgifter',
      field: 'Uppgift',
      from: 'Uppgiften kom från',
      purpose: 'Ändamål',
      basis: 'Rättslig grund',
      count: 'Antal',
      first: 'Första',
      last: 'Senaste',
      time: 'Tid',
    },
    note: 'Handläggare anges endast som myndighet. Tider i svensk tid. Frågor: kontakta myndighetens dataskyddsombud eller Integritetsskyddsmyndigheten (IMY).',
    verified: (proved: number, witnesses: string, pending: number) =>
      `Kontrollerat: ${proved} läsningar finns i loggen enligt kontrollpunkter som bekräftats av ${witnesses}.${pending > 0 ? ` ${pending} läsningar är för nya för att kunna bevisas ännu.` : ''} Utdraget i JSON-format bär bevisen och kan kontrolleras av vem som helst.`,
    unverified: (code: string) => `Utdraget kunde inte kontrolleras mot loggen (${code}).`,
    locale: 'sv-SE',
  },
  en: {
    title: 'Register extract – reads of personal data',
    heading: 'Register extract: which agencies read your data',
    lede: "Extract under Article 15 GDPR: which agencies read data about you through the agencies' data exchange, when, why and on which legal basis.",
    personnummer: 'Personal identity number',
    produced: 'Produced',
    reads: 'Number of reads',
    covers: 'Covers',
    coversAll: "Every member agency's reads.",
    coversAgency: (name: string) =>
      `Only reads where ${name} disclosed or received the data. Other agencies' reads are reported by each agency; the Swedish Authority for Privacy Protection (IMY) can produce an extract covering all.`,
    summary: 'Summary',
    none: 'No reads recorded.',
    every: 'Every read',
    columns: {
      agency: 'Agency that read',
      category: 'Kind of data',
      field: 'Data',
      from: 'Data came from',
      purpose: 'Purpose',
      basis: 'Legal basis',
      count: 'Reads',
      first: 'First',
      last: 'Latest',
      time: 'Time',
    },
    note: "Officials are shown only as their agency. Times in Swedish time. Questions: contact the agency's data protection officer or IMY.",
    verified: (proved: number, witnesses: string, pending: number) =>
      `Verified: ${proved} reads are in the log, by checkpoints confirmed by ${witnesses}.${pending > 0 ? ` ${pending} reads are too recent to be proved yet.` : ''} The extract in JSON carries the proofs, which anyone can check.`,
    unverified: (code: string) => `The extract could not be verified against the log (${code}).`,
    locale: 'en-GB',
  },
} as const;

/**
 * A printable page for the citizen, in Swedish (or English), times in the configured time zone,
 * fields, categories and purposes in the words of the schemas' descriptions. Styles come from
 * /audit/report.css (the console's CSP allows no inline styles).
 */
export function renderCitizenReportHtml(
  report: CitizenReport,
  options: { readonly vocabulary: Vocabulary; readonly language: 'sv' | 'en'; readonly timeZone: string; readonly verification?: ReportVerification | null },
): string {
  const t = TEXTS[options.language];
  const field = labeller(options.vocabulary.fields, options.language);
  const category = labeller(options.vocabulary.categories, options.language);
  const purpose = labeller(options.vocabulary.purposes, options.language);
  const format = new Intl.DateTimeFormat(t.locale, { timeZone: options.timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit' });
  const date = (iso: string) => format.format(new Date(iso));
  const td = (text: string, className?: string) => `<td${className ? ` class="${className}"` : ''}>${escapeHtml(text)}</td>`;
  const summaryRows = report.summary
    .map(
      (s) =>
        `<tr>${td(s.agency.name)}${td(category(s.category))}${td(purpose(s.purpose))}${td(s.legalBasis)}${td(String(s.reads), 'num')}${td(date(s.firstRead), 'time')}${td(date(s.lastRead), 'time')}</tr>`,
    )
    .join('\n');
  const readRows = report.reads
    .map((r) => `<tr>${td(date(r.time), 'time')}${td(r.agency.name)}${td(field(r.field))}${td(category(r.category))}${td(r.owningAgency.name)}${td(purpose(r.purpose))}${td(r.legalBasis)}</tr>`)
    .join('\n');
  const c = t.columns;
  const head = (...names: string[]) => `<thead><tr>${names.map((name) => `<th scope="col">${escapeHtml(name)}</th>`).join('')}</tr></thead>`;
  return `<!doctype html>
<html lang="${options.language}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(t.title)}</title>
<link rel="stylesheet" href="/audit/report.css">
</head>
<body>
<main>
<h1>${escapeHtml(t.heading)}</h1>
<p class="lede">${escapeHtml(t.lede)}</p>
<dl class="meta">
<dt>${escapeHtml(t.personnummer)}</dt><dd>${escapeHtml(report.subject)}</dd>
<dt>${escapeHtml(t.produced)}</dt><dd>${escapeHtml(date(report.generatedAt))}</dd>
<dt>${escapeHtml(t.reads)}</dt><dd>${report.reads.length}</dd>
<dt>${escapeHtml(t.covers)}</dt><dd class="scope" data-scope="${escapeHtml(report.scope.agency?.id ?? '*')}">${escapeHtml(report.scope.agency ? t.coversAgency(report.scope.agency.name) : t.coversAll)}</dd>
</dl>
<h2>${escapeHtml(t.summary)}</h2>
${report.summary.length === 0 ? `<p>${escapeHtml(t.none)}</p>` : `<table>${head(c.agency, c.category, c.purpose, c.basis, c.count, c.first, c.last)}<tbody>\n${summaryRows}\n</tbody></table>`}
<h2>${escapeHtml(t.every)}</h2>
${report.reads.length === 0 ? '<p>–</p>' : `<table>${head(c.time, c.agency, c.field, c.category, c.from, c.purpose, c.basis)}<tbody>\n${readRows}\n</tbody></table>`}
${verificationLine(options.verification, t)}<p class="note">${escapeHtml(t.note)}</p>
</main>
</body>
</html>
`;
}
