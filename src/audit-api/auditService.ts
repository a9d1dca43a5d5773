import type { JWK } from 'jose';
import { GatewayError } from '../errors/index.js';
import { decryptSubject, subjectHmac, ACCESS_OUTCOMES, ACCESS_LOG_ENTRY_KINDS, COUNT_DIMENSIONS } from '../audit/index.js';
import type { AccessLogFilter, AccessLogStore, CountDimension, StoredEntry, SubjectKeys, VerificationReport } from '../audit/index.js';
import type { AccessLogSink } from '../audit/accessLog.js';
import { auditQueryEntry } from '../audit/accessLogEntries.js';
import type { AgencyRegistry } from '../identity/index.js';
import { isValidPersonnummer, parsePersonnummer } from '../personnummer/index.js';
import type { PersonalFieldCatalogue } from '../policy/personalFieldCatalogue.js';
import { inScope, scopedFilter, type AuditCaller } from './auditCaller.js';
import { detectAnomalies, type AnomalyFlag } from './anomalies.js';
import { buildCitizenReport, withProofs, type CitizenReport } from './citizenReport.js';
import type { ProofOptions } from '../audit/reportProofs.js';
import { verifyCitizenReport, type ReportVerification } from '../audit/verifyReport.js';
import type { AnomalyThresholds, ConfidentialityRule } from '../config/auditApiConfig.js';
import { entriesToCsv } from './csv.js';
import { transparencyStatus, type TransparencyStatus } from './logStatus.js';
import { KeptLogVerification, type KeptRun, type LogVerificationEvent } from './keptLogVerification.js';
import type { Vocabulary } from './vocabulary.js';

/** A filter as the audit API takes it: the subject as a personnummer, never its hash. */
export interface AuditFilterInput {
  readonly subject?: string | null | undefined;
  readonly clientAgency?: string | null | undefined;
  readonly owningAgency?: string | null | undefined;
  readonly official?: string | null | undefined;
  readonly purpose?: string | null | undefined;
  readonly caseId?: string | null | undefined;
  readonly field?: string | null | undefined;
  readonly outcome?: string | null | undefined;
  readonly kind?: string | null | undefined;
  /** Inclusive, ISO 8601. */
  readonly from?: string | null | undefined;
  /** Exclusive, ISO 8601. */
  readonly to?: string | null | undefined;
}

/** An entry as an entitled caller sees it: the subject decrypted, the category named. */
export interface AuditEntryView extends Omit<StoredEntry, 'subjectEnc' | 'subjectHmac'> {
  readonly id: string;
  readonly subject: string | null;
  readonly category: string | null;
}

export interface AuditServiceOptions {
  readonly store: AccessLogStore;
  readonly log: AccessLogSink;
  readonly subjectKeys: SubjectKeys;
  readonly publicJwks: readonly JWK[];
  readonly registry: AgencyRegistry;
  catalogue(): PersonalFieldCatalogue;
  /** Plain-language names for the CSV's label columns. */
  vocabulary(): Vocabulary;
  /** Local time of the CSV's `localTime` column (Europe/Stockholm). */
  readonly timeZone: string;
  confidentialityRules(): readonly ConfidentialityRule[];
  readonly anomalies: AnomalyThresholds;
  readonly now?: () => Date;
  /** With it, citizen reports carry inclusion proofs against cosigned checkpoints and the log's signature. */
  readonly transparency?: Omit<ProofOptions, 'since'>;
  /** AUDIT_VERIFY_MAX_AGE_MS: how long the badge's full verification is kept before a request starts it again (5 minutes when not given). */
  readonly verifyMaxAgeMs?: number;
  /** Each start and end of that verification, and each request joining a running one. */
  readonly onLogVerification?: (event: LogVerificationEvent) => void | Promise<void>;
}

/** `verification` as the audit API answers it: the kept run's hash-chain report, when it finished, and whether a newer run is under way. */
export interface LogVerificationView extends VerificationReport {
  readonly verifiedAt: string;
  readonly refreshing: boolean;
  /** The run the answer comes from: `transparency` reads its trees, so both parts of one answer describe one run. */
  readonly run: KeptRun;
}

const DEFAULT_VERIFY_MAX_AGE_MS = 300_000;

/**
 * The API's spelling of a log value: `RELEASED` for `released`, `AUDIT_QUERY` for `audit-query`.
 * Every entry point (GraphQL, the CSV form, JSON) takes the API's spelling; the log's own is
 * accepted too, so older scripts keep working.
 */
export function apiSpelling(value: string): string {
  return value.toUpperCase().replace(/-/g, '_');
}

function logValue<T extends string>(argument: string, value: string, allowed: readonly T[]): T {
  const found = allowed.find((candidate) => candidate === value || apiSpelling(candidate) === value);
  if (!found) throw badInput(argument, `${argument} must be one of ${allowed.map(apiSpelling).join(', ')}.`);
  return found;
}

/** The audit API's actions, as recorded in the `field` of their audit-query entries. */
export type AuditAction = 'entries' | 'entry' | 'counts' | 'dailyVolume' | 'anomalies' | 'citizenReport' | 'exportCsv';

const PAGE = 1000;
export const MAX_EXPORT_ENTRIES = 100_000;
const MAX_FLAG_ENTRIES = 200;

const LEGAL_BASIS: Record<AuditCaller['role'], string> = {
  PRIVACY_OFFICER: 'GDPR art. 39.1 b (the data protection officer monitors compliance); art. 32',
  SUPERVISOR: 'GDPR art. 57.1 a, 58.1 (supervisory authority investigations)',
};

function badInput(argument: string, message: string): GatewayError {
  return new GatewayError('BAD_USER_INPUT', message, { argument });
}

function text(argument: string, value: string | null | undefined, max = 256): string | undefined {
  if (value === null || value === undefined || value === '') return undefined;
  if (typeof value !== 'string' || value.length > max) throw badInput(argument, `${argument} must be text of at most ${max} characters.`);
  return value;
}

export function entryId(entry: { readonly chainId: string; readonly seq: number }): string {
  return `${entry.chainId}:${entry.seq}`;
}

/**
 * The audit API's logic, independent of GraphQL and HTTP. Every method that reads entries
 * records an `audit-query` entry first and waits for its commit: a search nobody can later see
 * would make the audit log itself an unlogged channel to personal data.
 */
export class AuditService {
  private readonly now: () => Date;
  /** One per service, and one service per process: the single flight of the badge's verification. */
  private readonly keptLog: KeptLogVerification;

  constructor(private readonly options: AuditServiceOptions) {
    this.now = options.now ?? (() => new Date());
    this.keptLog = new KeptLogVerification({
      store: options.store,
      publicJwks: options.publicJwks,
      log: options.transparency?.signer.verifier ?? null,
      maxAgeMs: options.verifyMaxAgeMs ?? DEFAULT_VERIFY_MAX_AGE_MS,
      now: this.now,
      ...(options.onLogVerification ? { onEvent: options.onLogVerification } : {}),
    });
  }

  /** Validates the filter; the personnummer becomes its keyed hash, and no message ever echoes it. */
  toStoreFilter(input: AuditFilterInput): { filter: AccessLogFilter; subject: string | null } {
    let subject: string | null = null;
    const filter: Record<string, string> = {};
    if (input.subject !== null && input.subject !== undefined && input.subject !== '') {
      try {
        subject = parsePersonnummer(input.subject.trim()).canonical;
      } catch {
        throw badInput('subject', 'subject is not a valid personnummer or samordningsnummer.');
      }
      filter['subjectHmac'] = subjectHmac(this.options.subjectKeys, subject);
    }
    for (const key of ['clientAgency', 'owningAgency', 'official', 'purpose', 'caseId', 'field'] as const) {
      const value = text(key, input[key]);
      if (value !== undefined) filter[key] = value;
    }
    const outcome = text('outcome', input.outcome);
    if (outcome !== undefined) filter['outcome'] = logValue('outcome', outcome, ACCESS_OUTCOMES);
    const kind = text('kind', input.kind);
    if (kind !== undefined) filter['kind'] = logValue('kind', kind, ACCESS_LOG_ENTRY_KINDS);
    for (const [argument, key] of [
      ['from', 'timeFrom'],
      ['to', 'timeTo'],
    ] as const) {
      const value = text(argument, input[argument], 64);
      if (value === undefined) continue;
      if (!/^\d{4}-\d{2}-\d{2}/.test(value) || Number.isNaN(Date.parse(value))) throw badInput(argument, `${argument} must be an ISO 8601 date or time.`);
      filter[key] = new Date(Date.parse(value)).toISOString();
    }
    return { filter: filter as AccessLogFilter, subject };
  }

  /**
   * The audit of the audit: who searched (agency, official), in which scope, with which filter.
   * The filter's personnummer is the entry's subject, encrypted like any other; the rest of the
   * filter is kept as JSON in `operationName` (values that look like a personnummer masked), and
   * `documentHash` is SHA-256 of the full filter JSON.
   */
  async recordAuditQuery(caller: AuditCaller, action: AuditAction, input: AuditFilterInput, extra: Record<string, string | number> = {}): Promise<void> {
    const { subject } = this.toStoreFilter(input);
    const described: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(input)) {
      if (value === null || value === undefined || value === '') continue;
      described[key] = key === 'subject' ? 'personnummer' : isValidPersonnummer(value) ? '[personnummer]' : value;
    }
    Object.assign(described, extra);
    const entry = auditQueryEntry(
      {
        requestId: caller.requestId,
        agency: caller.agency,
        official: caller.official,
        caseId: caller.caseId,
        action,
        subject,
        legalBasis: action === 'citizenReport' ? `GDPR art. 15 (register extract); ${LEGAL_BASIS[caller.role]}` : LEGAL_BASIS[caller.role],
        scope: caller.role === 'SUPERVISOR' ? '*' : caller.agency.id,
        filter: JSON.stringify(described),
      },
      this.now(),
    );
    await this.options.log.record([entry]);
  }

  view(entry: StoredEntry): AuditEntryView {
    const { subjectEnc, subjectHmac: hmac, ...rest } = entry;
    return {
      ...rest,
      id: entryId(entry),
      subject: subjectEnc !== null && hmac !== null ? decryptSubject(this.options.subjectKeys, subjectEnc, hmac) : null,
      category: entry.kind === 'access' ? (this.options.catalogue().fields.get(entry.field)?.category ?? null) : null,
    };
  }

  /**
   * The caller's filter in scope, ending at the moment the query began (`asOf`). The log grows
   * while an officer looks at it, by partner reads and by the officer's own searches (each is
   * logged before it reads): without one end, the list, the chart and the counts of one search
   * would each see a different log, and a query would count its own audit entry. The console
   * passes the first answer's `asOf` as `to` to every later view of the same search.
   */
  private snapshot(caller: AuditCaller, input: AuditFilterInput): { filter: AccessLogFilter; asOf: string } {
    const asOf = this.now().toISOString();
    const filter = scopedFilter(caller, this.toStoreFilter(input).filter);
    return { filter: { ...filter, timeTo: filter.timeTo !== undefined && filter.timeTo < asOf ? filter.timeTo : asOf }, asOf };
  }

  async entries(
    caller: AuditCaller,
    input: AuditFilterInput,
    after: string | null,
    first: number,
  ): Promise<{ entries: AuditEntryView[]; nextCursor: string | null; totalCount: number; asOf: string }> {
    if (!Number.isInteger(first) || first < 1 || first > 500) throw badInput('first', 'first must be a whole number 1..500.');
    const { filter, asOf } = this.snapshot(caller, input);
    await this.recordAuditQuery(caller, 'entries', input, after ? { page: 'next' } : {});
    const [page, counts] = await Promise.all([this.options.store.query(filter, after, first), this.options.store.countBy('kind', filter)]);
    return { entries: page.entries.map((e) => this.view(e)), nextCursor: page.nextCursor, totalCount: counts.reduce((sum, row) => sum + row.count, 0), asOf };
  }

  async entry(caller: AuditCaller, id: string): Promise<AuditEntryView | null> {
    const match = /^([A-Za-z0-9][A-Za-z0-9._-]{0,63}):(\d{1,15})$/.exec(id);
    if (!match) throw badInput('id', 'id must be chainId:seq as the API returns it.');
    const [row] = await this.options.store.readChain(match[1] ?? '', Number(match[2]), 1);
    const found = row && row.seq === Number(match[2]) && inScope(caller, row) ? row : null;
    // Logged whether or not it is found: probing ids is a search too.
    await this.recordAuditQuery(caller, 'entry', {}, { id });
    return found ? this.view(found) : null;
  }

  async counts(caller: AuditCaller, input: AuditFilterInput, dimensions: readonly string[]): Promise<Array<{ dimension: CountDimension; rows: Array<{ key: string; count: number }> }>> {
    for (const d of dimensions) if (!(COUNT_DIMENSIONS as readonly string[]).includes(d)) throw badInput('by', `by must list dimensions of ${COUNT_DIMENSIONS.join(', ')}.`);
    const { filter } = this.snapshot(caller, input);
    await this.recordAuditQuery(caller, 'counts', input, { by: dimensions.join(',') });
    return Promise.all(dimensions.map(async (dimension) => ({ dimension: dimension as CountDimension, rows: await this.options.store.countBy(dimension as CountDimension, filter) })));
  }

  /** Entries per UTC day, one series per value of `series` (purpose or an agency). */
  async dailyVolume(
    caller: AuditCaller,
    input: AuditFilterInput,
    series: 'purpose' | 'clientAgency' | 'owningAgency',
  ): Promise<{ days: string[]; series: Array<{ key: string; counts: number[] }>; asOf: string }> {
    const { filter, asOf } = this.snapshot(caller, input);
    await this.recordAuditQuery(caller, 'dailyVolume', input, { series });
    const keys = (await this.options.store.countBy(series, filter)).map((row) => row.key);
    const perKey = await Promise.all(keys.map(async (key) => ({ key, rows: await this.options.store.countBy('day', { ...filter, [series]: key }) })));
    const days = [...new Set(perKey.flatMap((s) => s.rows.map((r) => r.key)))].sort();
    return { days, series: perKey.map((s) => ({ key: s.key, counts: days.map((day) => s.rows.find((r) => r.key === day)?.count ?? 0) })), asOf };
  }

  /** The kept full verification (keptLogVerification.ts): at most one run at a time, redone when older than AUDIT_VERIFY_MAX_AGE_MS. */
  async verification(): Promise<LogVerificationView> {
    const { run, refreshing } = await this.keptLog.current();
    return { ...run.chains, verifiedAt: run.finishedAt.toISOString(), refreshing, run };
  }

  /** Each chain's tree (from the run `verification` answered with), its newest checkpoint and its witness quorum (the console's badge); null when the log has no note key. */
  async transparency(verification: LogVerificationView): Promise<TransparencyStatus | null> {
    const transparency = this.options.transparency;
    if (!transparency || !verification.run.trees) return null;
    return transparencyStatus(this.options.store, verification.run.trees, { witnesses: transparency.witnesses, quorum: transparency.quorum }, this.now());
  }

  private async readAll(filter: AccessLogFilter, max: number): Promise<{ entries: StoredEntry[]; complete: boolean }> {
    const entries: StoredEntry[] = [];
    let cursor: string | null = null;
    do {
      const page = await this.options.store.query(filter, cursor, Math.min(PAGE, max - entries.length + 1));
      entries.push(...page.entries);
      cursor = page.nextCursor;
      if (entries.length > max) return { entries: entries.slice(0, max), complete: false };
    } while (cursor !== null);
    return { entries, complete: true };
  }

  async anomalies(
    caller: AuditCaller,
    input: { from?: string | null; to?: string | null },
  ): Promise<{ flags: Array<Omit<AnomalyFlag, 'entries'> & { entryCount: number; entries: AuditEntryView[] }>; complete: boolean; from: string; to: string }> {
    const to = input.to ?? this.now().toISOString();
    const from = input.from ?? new Date(Date.parse(to) - this.options.anomalies.windowDays * 86_400_000).toISOString();
    const range = { from, to, kind: 'access' };
    const filter = scopedFilter(caller, this.toStoreFilter(range).filter);
    await this.recordAuditQuery(caller, 'anomalies', { from, to });
    const { entries, complete } = await this.readAll(filter, this.options.anomalies.maxEntries);
    const flags = detectAnomalies(entries, this.options.anomalies).map((f) => ({ ...f, entryCount: f.entries.length, entries: f.entries.slice(0, MAX_FLAG_ENTRIES).map((e) => this.view(e)) }));
    return { flags, complete, from: filter.timeFrom ?? from, to: filter.timeTo ?? to };
  }

  /**
   * Who may ask: the supervisor (every agency's reads), or a privacy officer (the reads its own
   * agency made or answered: each agency answers an art. 15 request for its own processing).
   */
  async citizenReport(caller: AuditCaller, personnummer: string, options: { readonly since?: Readonly<Record<string, number>> } = {}): Promise<CitizenReport> {
    const { filter, subject } = this.toStoreFilter({ subject: personnummer });
    if (subject === null) throw badInput('personnummer', 'personnummer is required.');
    await this.recordAuditQuery(caller, 'citizenReport', { subject: personnummer });
    const { entries } = await this.readAll(scopedFilter(caller, { ...filter, kind: 'access', outcome: 'released' }), MAX_EXPORT_ENTRIES);
    const report = buildCitizenReport({
      subject,
      entries,
      rules: this.options.confidentialityRules(),
      registry: this.options.registry,
      catalogue: this.options.catalogue(),
      now: this.now(),
      showHeldBack: caller.role === 'SUPERVISOR',
      // An officer's extract covers only its own agency's processing: the report must say so.
      scopeAgency: caller.role === 'SUPERVISOR' ? null : caller.agency.id,
    });
    const transparency = this.options.transparency;
    return transparency ? withProofs(report, entries, this.options.store, { ...transparency, ...(options.since ? { since: options.since } : {}) }) : report;
  }

  /** A report this service made, checked as a citizen would check it; null without proofs. */
  verifyOwnReport(report: CitizenReport): ReportVerification | null {
    const transparency = this.options.transparency;
    if (!transparency || report.signature === undefined) return null;
    return verifyCitizenReport(report, { log: transparency.signer.verifier, witnesses: transparency.witnesses, quorum: transparency.quorum });
  }

  /** The rules themselves are for the supervisor: they reveal that an investigation is going on. */
  confidentialityRules(caller: AuditCaller): readonly ConfidentialityRule[] {
    if (caller.role !== 'SUPERVISOR') throw new GatewayError('ROLE_NOT_ALLOWED', 'Confidentiality rules are visible to the supervisor only.', { agency: caller.agency.id });
    return this.options.confidentialityRules();
  }

  async exportCsv(caller: AuditCaller, input: AuditFilterInput, language: 'sv' | 'en' = 'sv'): Promise<{ csv: string; complete: boolean }> {
    const { filter } = this.snapshot(caller, input);
    await this.recordAuditQuery(caller, 'exportCsv', input);
    const { entries, complete } = await this.readAll(filter, MAX_EXPORT_ENTRIES);
    return {
      csv: entriesToCsv(
        entries.map((e) => this.view(e)),
        { vocabulary: this.options.vocabulary(), language, timeZone: this.options.timeZone },
      ),
      complete,
    };
  }
}
