import type { StoredEntry } from '../audit/entry.js';
import type { AgencyRegistry } from '../identity/index.js';
import type { PersonalFieldCatalogue } from '../policy/personalFieldCatalogue.js';
import type { ConfidentialityRule } from './config.js';

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
  readonly reads: readonly CitizenReportRead[];
  readonly summary: readonly CitizenReportSummary[];
  /** Filled in for the supervisor only. */
  readonly heldBack: readonly HeldBack[];
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
    reads,
    summary: [...summary.values()].sort((a, b) => a.agency.name.localeCompare(b.agency.name, 'sv') || a.category.localeCompare(b.category)),
    heldBack: input.showHeldBack ? [...heldBack.values()] : [],
  };
}

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const PURPOSE_LABELS: Record<string, string> = {
  CASE_HANDLING: 'Handläggning av ärende (case handling)',
  PAYMENT_CONTROL: 'Kontroll av utbetalningar (payment control)',
  INFORMING_THE_INSURED: 'Information till den försäkrade (informing the insured)',
  PLANNING_AND_FOLLOW_UP: 'Planering och uppföljning (planning and follow-up)',
  STATISTICS: 'Statistik (statistics)',
  DUTY_TO_DISCLOSE: 'Uppgiftsskyldighet (duty to disclose)',
};

/** A printable page for the citizen; styles come from /audit/report.css (the console's CSP allows no inline styles). */
export function renderCitizenReportHtml(report: CitizenReport): string {
  const date = (iso: string) => iso.slice(0, 16).replace('T', ' ') + ' UTC';
  const summaryRows = report.summary
    .map(
      (s) =>
        `<tr><td>${escapeHtml(s.agency.name)}</td><td>${escapeHtml(s.category)}</td><td>${escapeHtml(PURPOSE_LABELS[s.purpose] ?? s.purpose)}</td><td>${escapeHtml(s.legalBasis)}</td><td class="num">${s.reads}</td><td>${escapeHtml(date(s.firstRead))}</td><td>${escapeHtml(date(s.lastRead))}</td></tr>`,
    )
    .join('\n');
  const readRows = report.reads
    .map(
      (r) =>
        `<tr><td>${escapeHtml(date(r.time))}</td><td>${escapeHtml(r.agency.name)}</td><td>${escapeHtml(r.category)}</td><td><code>${escapeHtml(r.field)}</code></td><td>${escapeHtml(r.owningAgency.name)}</td><td>${escapeHtml(PURPOSE_LABELS[r.purpose] ?? r.purpose)}</td><td>${escapeHtml(r.legalBasis)}</td></tr>`,
    )
    .join('\n');
  return `<!doctype html>
<html lang="sv">
<head>
<meta charset="utf-8">
<title>Registerutdrag – läsningar av personuppgifter</title>
<link rel="stylesheet" href="/audit/report.css">
</head>
<body>
<main>
<h1>Registerutdrag: vilka myndigheter har läst dina uppgifter</h1>
<p class="lede">Register extract under article 15 GDPR: which agencies read data about you through the agencies' data exchange, when, why and on which legal basis.</p>
<dl class="meta">
<dt>Personnummer</dt><dd>${escapeHtml(report.subject)}</dd>
<dt>Framställt / produced</dt><dd>${escapeHtml(date(report.generatedAt))}</dd>
<dt>Antal läsningar / reads</dt><dd>${report.reads.length}</dd>
</dl>
<h2>Sammanfattning / summary</h2>
${report.summary.length === 0 ? '<p>Inga läsningar registrerade. No reads recorded.</p>' : `<table><thead><tr><th>Myndighet / agency</th><th>Kategori / category</th><th>Ändamål / purpose</th><th>Rättslig grund / legal basis</th><th>Antal</th><th>Första</th><th>Senaste</th></tr></thead><tbody>\n${summaryRows}\n</tbody></table>`}
<h2>Alla läsningar / every read</h2>
${report.reads.length === 0 ? '<p>–</p>' : `<table><thead><tr><th>Tid / time</th><th>Myndighet / agency</th><th>Kategori</th><th>Uppgift / field</th><th>Från / from</th><th>Ändamål / purpose</th><th>Rättslig grund / legal basis</th></tr></thead><tbody>\n${readRows}\n</tbody></table>`}
<p class="note">Handläggare anges endast som myndighet. Officials are shown only as their agency. Questions: contact the agency's data protection officer (dataskyddsombud), or Integritetsskyddsmyndigheten (IMY).</p>
</main>
</body>
</html>
`;
}
