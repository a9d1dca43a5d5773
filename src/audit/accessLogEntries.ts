import { createHash } from 'node:crypto';
import type { CallerContext } from '../identity/callerContext.js';
import type { AccessLogSink } from './accessLog.js';
import type { AccessedField } from './collectAccessedFields.js';
import { GATEWAY_AGENCY_ID, WHOLE_REQUEST_FIELD, type AccessLogEntry } from './entry.js';

/** What every entry of one request shares besides the caller: the operation it ran or tried to run. */
export interface EntryOperation {
  readonly operationName: string | null;
  readonly documentHash: string;
}

/** What an agreement contributes to an entry: the legal basis and the processing-register record. */
export type LegalBasis = Pick<AccessLogEntry, 'legalBasis' | 'processingRegisterRef'>;

/** A value whose field the purpose check did not decide on (cannot happen for a checked operation; said plainly if it does). */
export const UNKNOWN_BASIS: LegalBasis = { legalBasis: 'unknown', processingRegisterRef: { recordId: 'unknown', version: '0' } };

/** Nothing was disclosed, so no agreement's legal basis applies to a denial. */
const DENIED_BASIS: LegalBasis = { legalBasis: 'none (denied before disclosure)', processingRegisterRef: { recordId: 'none', version: '0' } };

/** What a refusal says about itself: which field (or the whole request), whose, and why. */
export interface Denial {
  readonly field: string;
  readonly owningAgency: string;
  readonly outcomeCode: string;
  /** The one person it concerns (a personnummer asked about that is not a subject of the case); absent: every subject of the case. */
  readonly subject?: string;
}

/** A refusal of the whole request before its fields were looked at (a rate limit): it stands for every field asked for. */
export function wholeRequestDenial(outcomeCode: string): Denial {
  return { field: WHOLE_REQUEST_FIELD, owningAgency: GATEWAY_AGENCY_ID, outcomeCode };
}

/** What one request did with personal data: the values of its response, or what was refused. */
export type AccessRecord =
  | { readonly kind: 'accessed'; readonly accessed: readonly AccessedField[]; basisOf(coordinate: string): LegalBasis | undefined }
  | { readonly kind: 'denied'; readonly denials: readonly Denial[] };

/**
 * The one builder of a partner request's access-log entries (auditQueryEntry below builds the
 * log's own audit entries): released and withheld values (one
 * entry per value), field denials and whole-request refusals (one entry per denial per subject of
 * the case, so a person's access history also shows what was asked about them and turned away).
 * What every entry of the request shares (time, caller, operation) is worked out once.
 */
export function accessLogEntries(caller: CallerContext, operation: EntryOperation, record: AccessRecord): AccessLogEntry[] {
  const shared: SharedFields = {
    time: new Date().toISOString(),
    requestId: caller.requestId,
    clientAgency: { organisationNumber: caller.agency.organisationNumber, id: caller.agency.id },
    official: caller.official,
    purpose: caller.purpose,
    caseId: caller.caseId,
    operationName: operation.operationName,
    documentHash: operation.documentHash,
  };
  if (record.kind === 'accessed') {
    return record.accessed.map((value) =>
      entryOf(shared, (value.basis !== null ? record.basisOf(value.basis) : undefined) ?? UNKNOWN_BASIS, value.subject, value.coordinate, value.owner, value.outcome, value.code),
    );
  }
  const caseSubjects: readonly (string | null)[] = caller.subjects.length > 0 ? caller.subjects : [null];
  return record.denials.flatMap((denial) =>
    (denial.subject !== undefined ? [denial.subject] : caseSubjects).map((subject) => entryOf(shared, DENIED_BASIS, subject, denial.field, denial.owningAgency, 'denied', denial.outcomeCode)),
  );
}

/** What every entry of one request shares. */
type SharedFields = Pick<AccessLogEntry, 'time' | 'requestId' | 'clientAgency' | 'official' | 'purpose' | 'caseId' | 'operationName' | 'documentHash'>;

/**
 * One entry, written out property by property: a request of 50 persons builds ~300, and V8 builds
 * an object from spreads (`{ ...shared, ...basis, subject }`) through its generic copying path,
 * measured at tens of microseconds per entry against well under one for this literal.
 */
function entryOf(shared: SharedFields, basis: LegalBasis, subject: string | null, field: string, owningAgency: string, outcome: AccessLogEntry['outcome'], outcomeCode: string | null): AccessLogEntry {
  return {
    // The keys in the order the spread gave them, should anything serialise an entry as it is.
    time: shared.time,
    requestId: shared.requestId,
    clientAgency: shared.clientAgency,
    official: shared.official,
    purpose: shared.purpose,
    caseId: shared.caseId,
    operationName: shared.operationName,
    documentHash: shared.documentHash,
    legalBasis: basis.legalBasis,
    processingRegisterRef: basis.processingRegisterRef,
    subject,
    field,
    owningAgency,
    outcome,
    outcomeCode,
  };
}

/** Who searched the access log itself, in which scope and on which basis (the audit of the audit). */
export interface AuditQuery {
  readonly requestId: string;
  readonly agency: { readonly organisationNumber: string; readonly id: string };
  readonly official: string;
  readonly caseId: string;
  /** The audit API's query or action, recorded as the field `Query.<action>`. */
  readonly action: string;
  /** The personnummer searched for, encrypted in the entry like any subject; null when the search named none. */
  readonly subject: string | null;
  readonly legalBasis: string;
  /** The agency whose entries the officer may see (`*` for the supervisory authority): the entry's owning agency. */
  readonly scope: string;
  /** The rest of the filter, described without personal values (JSON). */
  readonly filter: string;
}

/** The longest filter description kept in an entry's operationName; the digest covers all of it. */
const MAX_FILTER_TEXT = 256;

/**
 * The entry for one search of the access log, built here like every partner entry so that the log
 * has one builder. The catalogue has no audit purpose; follow-up is the nearest, and the real basis
 * is in legalBasis. The filter goes into operationName (cut to 256 characters) and its SHA-256 into
 * documentHash.
 */
export function auditQueryEntry(query: AuditQuery, time: Date): AccessLogEntry {
  return {
    kind: 'audit-query',
    time: time.toISOString(),
    requestId: query.requestId,
    clientAgency: { organisationNumber: query.agency.organisationNumber, id: query.agency.id },
    official: query.official,
    purpose: 'PLANNING_AND_FOLLOW_UP',
    legalBasis: query.legalBasis,
    processingRegisterRef: { recordId: 'ACCESS-LOG-AUDIT', version: '1' },
    caseId: query.caseId,
    subject: query.subject,
    field: `Query.${query.action}`,
    owningAgency: query.scope,
    outcome: 'released',
    outcomeCode: null,
    operationName: query.filter.length <= MAX_FILTER_TEXT ? query.filter : `${query.filter.slice(0, MAX_FILTER_TEXT - 1)}…`,
    documentHash: createHash('sha256').update(query.filter).digest('hex'),
  };
}

/** Told of a refusal whose entries the log could not take. */
export type DenialLogGapReporter = (error: unknown, caller: CallerContext) => void;

/**
 * The one rule for a refusal's entries, whatever refused (a check, a rate limit): they are
 * committed before the refusal is sent, and if the log cannot take them the refusal still stands
 * and the gap is reported. Nothing was released either way, so a failing log must not turn a
 * refusal into a 503, nor be passed over in silence.
 */
export async function recordDenials(log: AccessLogSink, caller: CallerContext, operation: EntryOperation, denials: readonly Denial[], reportGap: DenialLogGapReporter): Promise<void> {
  if (denials.length === 0) return;
  try {
    await log.record(accessLogEntries(caller, operation, { kind: 'denied', denials }));
  } catch (error) {
    reportGap(error, caller);
  }
}
