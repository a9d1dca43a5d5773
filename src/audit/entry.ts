import { parsePersonnummer } from '../personnummer/index.js';
import { isPurpose, type Purpose } from '../policy/purposes.js';

/**
 * What happened to one personal field of one subject in one request. `released` went to the
 * client; `withheld` was resolved by the owning agency but kept out of the response; `denied`
 * was refused before any agency was asked.
 */
export type AccessOutcome = 'released' | 'withheld' | 'denied';
export const ACCESS_OUTCOMES = ['released', 'withheld', 'denied'] as const satisfies readonly AccessOutcome[];

/** `access`: a partner read personal data. `audit-query`: someone read the access log itself. */
export type AccessLogEntryKind = 'access' | 'audit-query';
export const ACCESS_LOG_ENTRY_KINDS = ['access', 'audit-query'] as const satisfies readonly AccessLogEntryKind[];

/**
 * One access-log entry as the gateway builds it. It names the field, never its value: the log
 * must not become a second copy of the registers it protects. `subject` is the only personal
 * value and it lives in memory only; at rest it is encrypted (see subjectProtection.ts).
 */
export interface AccessLogEntry {
  /** Defaults to 'access'. */
  readonly kind?: AccessLogEntryKind;
  /** ISO 8601 UTC with milliseconds, `YYYY-MM-DDTHH:mm:ss.sssZ` (what `Date#toISOString` gives). */
  readonly time: string;
  readonly requestId: string;
  readonly clientAgency: { readonly organisationNumber: string; readonly id: string };
  /** Pseudonymous id of the acting official. */
  readonly official: string;
  readonly purpose: Purpose;
  /** The legal basis the purpose rests on, as text (e.g. "SFS 2001:454 2 kap. 1 §"). */
  readonly legalBasis: string;
  /** The record in the agency's register of processing (GDPR art. 30) this access falls under. */
  readonly processingRegisterRef: { readonly recordId: string; readonly version: string };
  readonly caseId: string;
  /** Canonical 12-digit personnummer, or null where an entry concerns no one person (some audit queries). */
  readonly subject: string | null;
  /** Schema coordinate `Type.field`, or WHOLE_REQUEST_FIELD for a request refused as a whole. */
  readonly field: string;
  /** Id of the agency that owns the field (`gateway` for a request refused as a whole). */
  readonly owningAgency: string;
  readonly outcome: AccessOutcome;
  /**
   * Why a field was denied or withheld (a GatewayErrorCode such as PURPOSE_NOT_ALLOWED, or the
   * code a subgraph returned); null when released.
   */
  readonly outcomeCode: string | null;
  readonly operationName: string | null;
  /** SHA-256 (hex) of the operation document, so the exact query can be matched to a registered one. */
  readonly documentHash: string;
}

/**
 * The `field` of a denial that refused the whole request before its fields were looked at (a rate
 * limit): it stands for every field the request asked for. Only `denied` entries may use it.
 */
export const WHOLE_REQUEST_FIELD = '*';

/** `owningAgency` of entries for what the gateway itself refused, before any agency was asked. */
export const GATEWAY_AGENCY_ID = 'gateway';

const ISO_MS_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const FIELD_COORDINATE = /^[A-Za-z_][A-Za-z0-9_]*\.[A-Za-z_][A-Za-z0-9_]*$/;
const SHA256_HEX = /^[0-9a-f]{64}$/;
const ORGANISATION_NUMBER = /^\d{6}-\d{4}$/;

/** A malformed entry is a bug in the gateway, not bad client input: the message names the property, never its value. */
export class InvalidAccessLogEntryError extends TypeError {
  constructor(
    readonly property: string,
    message: string,
  ) {
    super(`Access-log entry ${property}: ${message}`);
    this.name = 'InvalidAccessLogEntryError';
  }
}

/**
 * The longest text the log keeps in each column a request supplies. A request whose operation
 * name (or token claim) is longer is refused where it is read, before anything is fetched: found
 * here, after the data, it could only fail the request with the log unavailable, and a refusal's
 * denial entries would be lost.
 */
export const ACCESS_LOG_TEXT_LIMITS = { requestId: 128, official: 256, caseId: 256, operationName: 256 } as const;

function requireText(property: string, value: unknown, max = 512): void {
  if (typeof value !== 'string' || value.length === 0) throw new InvalidAccessLogEntryError(property, 'must be a non-empty string');
  if (value.length > max) throw new InvalidAccessLogEntryError(property, `must be at most ${max} characters`);
}

/**
 * Checks an entry's shape before it reaches the chain; a bad entry must fail the request, not the
 * log. `checkedSubjects` (one call's) skips the personnummer check of a subject already passed:
 * a request logs many fields of few persons.
 */
export function validateAccessLogEntry(entry: AccessLogEntry, checkedSubjects?: Set<string>): void {
  checkEntry(entry, undefined, checkedSubjects);
}

/**
 * Checks one call's entries in order, throwing what validateAccessLogEntry throws for the first bad
 * one. A request's entries share their header (time, caller, purpose, case, operation) and most of
 * their values, so each check runs only where its input differs from the entry before, which
 * passed: every check is a function of its own input alone, so the first check to fail, and its
 * error, are the same as when every check runs.
 */
export function validateAccessLogEntries(entries: readonly AccessLogEntry[]): void {
  const checkedSubjects = new Set<string>();
  let previous: AccessLogEntry | undefined;
  for (const entry of entries) {
    checkEntry(entry, previous, checkedSubjects);
    previous = entry;
  }
}

/** The checks in their one order; `passed` (an entry that passed them all) lets equal inputs through unchecked. */
function checkEntry(entry: AccessLogEntry, passed: AccessLogEntry | undefined, checkedSubjects: Set<string> | undefined): void {
  if (entry.kind !== passed?.kind && entry.kind !== undefined && !(ACCESS_LOG_ENTRY_KINDS as readonly string[]).includes(entry.kind)) {
    throw new InvalidAccessLogEntryError('kind', `must be one of ${ACCESS_LOG_ENTRY_KINDS.join(', ')}`);
  }
  if (passed === undefined || entry.time !== passed.time) {
    if (typeof entry.time !== 'string' || !ISO_MS_UTC.test(entry.time) || Number.isNaN(Date.parse(entry.time))) {
      throw new InvalidAccessLogEntryError('time', 'must be an ISO 8601 UTC time with milliseconds (YYYY-MM-DDTHH:mm:ss.sssZ)');
    }
  }
  if (passed === undefined || entry.requestId !== passed.requestId) requireText('requestId', entry.requestId, ACCESS_LOG_TEXT_LIMITS.requestId);
  if (passed === undefined || entry.clientAgency?.organisationNumber !== passed.clientAgency.organisationNumber) {
    if (typeof entry.clientAgency?.organisationNumber !== 'string' || !ORGANISATION_NUMBER.test(entry.clientAgency.organisationNumber)) {
      throw new InvalidAccessLogEntryError('clientAgency.organisationNumber', 'must be NNNNNN-NNNN');
    }
  }
  if (passed === undefined || entry.clientAgency.id !== passed.clientAgency.id) requireText('clientAgency.id', entry.clientAgency.id, 64);
  if (passed === undefined || entry.official !== passed.official) requireText('official', entry.official, ACCESS_LOG_TEXT_LIMITS.official);
  if ((passed === undefined || entry.purpose !== passed.purpose) && !isPurpose(entry.purpose)) throw new InvalidAccessLogEntryError('purpose', 'must be a catalogued purpose');
  if (passed === undefined || entry.legalBasis !== passed.legalBasis) requireText('legalBasis', entry.legalBasis, 1024);
  if (passed === undefined || entry.processingRegisterRef?.recordId !== passed.processingRegisterRef.recordId) {
    requireText('processingRegisterRef.recordId', entry.processingRegisterRef?.recordId, 128);
  }
  if (passed === undefined || entry.processingRegisterRef.version !== passed.processingRegisterRef.version) {
    requireText('processingRegisterRef.version', entry.processingRegisterRef.version, 64);
  }
  if (passed === undefined || entry.caseId !== passed.caseId) requireText('caseId', entry.caseId, ACCESS_LOG_TEXT_LIMITS.caseId);
  if (entry.subject !== null && !checkedSubjects?.has(entry.subject)) {
    let canonical: string;
    try {
      canonical = parsePersonnummer(entry.subject).canonical;
    } catch {
      throw new InvalidAccessLogEntryError('subject', 'must be a valid personnummer or samordningsnummer');
    }
    // The keyed hash is only searchable if every entry uses the same spelling.
    if (canonical !== entry.subject) throw new InvalidAccessLogEntryError('subject', 'must be in canonical 12-digit form');
    checkedSubjects?.add(entry.subject);
  }
  if (entry.field === WHOLE_REQUEST_FIELD) {
    if (entry.outcome !== 'denied') throw new InvalidAccessLogEntryError('field', `may be ${WHOLE_REQUEST_FIELD} only when the outcome is denied`);
  } else if (typeof entry.field !== 'string' || !FIELD_COORDINATE.test(entry.field)) {
    throw new InvalidAccessLogEntryError('field', 'must be a schema coordinate Type.field');
  }
  if (passed === undefined || entry.owningAgency !== passed.owningAgency) requireText('owningAgency', entry.owningAgency, 64);
  if (passed === undefined || entry.outcome !== passed.outcome || entry.outcomeCode !== passed.outcomeCode) {
    if (!(ACCESS_OUTCOMES as readonly string[]).includes(entry.outcome)) {
      throw new InvalidAccessLogEntryError('outcome', `must be one of ${ACCESS_OUTCOMES.join(', ')}`);
    }
    if (entry.outcome === 'released' && entry.outcomeCode !== null) {
      throw new InvalidAccessLogEntryError('outcomeCode', 'must be null when the outcome is released');
    }
    if (entry.outcome !== 'released') requireText('outcomeCode', entry.outcomeCode, 64);
  }
  if (passed === undefined || entry.operationName !== passed.operationName) {
    if (entry.operationName !== null) requireText('operationName', entry.operationName, ACCESS_LOG_TEXT_LIMITS.operationName);
  }
  if (passed === undefined || entry.documentHash !== passed.documentHash) {
    if (typeof entry.documentHash !== 'string' || !SHA256_HEX.test(entry.documentHash)) {
      throw new InvalidAccessLogEntryError('documentHash', 'must be a lowercase hex SHA-256');
    }
  }
}

/**
 * An entry as the store gives it back: flat, the subject replaced by its ciphertext and keyed
 * hash, placed in a chain. It is stored inside its request's record (record.ts); `hash` is the
 * entry's commitment, which the record's tree leaf lists.
 */
export interface StoredEntry {
  readonly chainId: string;
  /** 1, 2, 3, ... per chain, without gaps. */
  readonly seq: number;
  /** The entry commitment (record.ts entryCommitment), hex. */
  readonly hash: string;
  readonly kind: AccessLogEntryKind;
  readonly time: string;
  readonly requestId: string;
  readonly clientAgencyOrgNumber: string;
  readonly clientAgencyId: string;
  readonly official: string;
  readonly purpose: string;
  readonly legalBasis: string;
  readonly processingRegisterRecordId: string;
  readonly processingRegisterVersion: string;
  readonly caseId: string;
  /** `v1.` + base64url(iv ‖ ciphertext ‖ tag), AES-256-GCM. */
  readonly subjectEnc: string | null;
  /** HMAC-SHA256 (hex) of the canonical personnummer. */
  readonly subjectHmac: string | null;
  readonly field: string;
  readonly owningAgency: string;
  readonly outcome: AccessOutcome;
  readonly outcomeCode: string | null;
  readonly operationName: string | null;
  readonly documentHash: string;
}

/** A stored entry before it has a place in a chain. */
export type UnchainedEntry = Omit<StoredEntry, 'chainId' | 'seq' | 'hash'>;
