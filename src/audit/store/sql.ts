import { GatewayError } from '../../errors/index.js';
import { ACCESS_OUTCOMES, type StoredEntry } from '../entry.js';
import { parseRecordBody, RecordFormatError, recordEntries, type RecordHeader, type RecordItem, type StoredRecord } from '../record.js';
import type { StoredCheckpoint, StoredPurge } from '../checkpoint.js';
import type { AccessLogFilter, CountDimension, LegalHold, StoredTreeHead } from './AccessLogStore.js';

/** Shared by both SQL stores: column names, filters, cursors. Dialects differ only in placeholders and the time type. */

/** Columns of the row-per-entry format before records (read only by the migration), paired with their StoredEntry property. */
export const LEGACY_ENTRY_COLUMNS = [
  ['chain_id', 'chainId'],
  ['seq', 'seq'],
  ['prev_hash', 'prevHash'],
  ['hash', 'hash'],
  ['kind', 'kind'],
  ['time', 'time'],
  ['request_id', 'requestId'],
  ['client_agency_org_number', 'clientAgencyOrgNumber'],
  ['client_agency_id', 'clientAgencyId'],
  ['official', 'official'],
  ['purpose', 'purpose'],
  ['legal_basis', 'legalBasis'],
  ['register_record_id', 'processingRegisterRecordId'],
  ['register_version', 'processingRegisterVersion'],
  ['case_id', 'caseId'],
  ['subject_enc', 'subjectEnc'],
  ['subject_hmac', 'subjectHmac'],
  ['field', 'field'],
  ['owning_agency', 'owningAgency'],
  ['outcome', 'outcome'],
  ['outcome_code', 'outcomeCode'],
  ['operation_name', 'operationName'],
  ['document_hash', 'documentHash'],
] as const satisfies ReadonlyArray<readonly [string, keyof StoredEntry | 'prevHash']>;

export const LEGACY_ENTRY_COLUMN_LIST = LEGACY_ENTRY_COLUMNS.map(([column]) => column).join(', ');

/** Record columns in insert order (record.ts): the place, the hashes, the query columns, the body. */
export const RECORD_COLUMN_LIST = 'chain_id, last_seq, first_seq, idx, prev_hash, hash, kind, time, client_agency_id, official, purpose, case_id, body';
export const RECORD_COLUMN_COUNT = 13;

/** A record as one positional row in RECORD_COLUMN_LIST order (what the writer thread binds and COPY writes). */
export function recordRow(record: StoredRecord): Array<string | number> {
  const { header } = record;
  return [
    record.chainId,
    record.lastSeq,
    record.firstSeq,
    record.index,
    record.prevHash,
    record.hash,
    header.kind,
    header.time,
    header.clientAgencyId,
    header.official,
    header.purpose,
    header.caseId,
    record.body,
  ];
}

const EMPTY_HEADER = {
  kind: 'access',
  time: '',
  requestId: '',
  clientAgencyOrgNumber: '',
  clientAgencyId: '',
  official: '',
  purpose: '',
  caseId: '',
  operationName: null,
  documentHash: '',
} as const satisfies RecordHeader;

/**
 * A record row read back. A body that does not parse (edited in the database) comes back with no
 * entries rather than failing the read: the verifier names it, with its seq.
 */
export function toRecord(row: Record<string, unknown>, time: (value: unknown) => string = String): StoredRecord {
  const body = row['body'] as string;
  let parsed: { header: RecordHeader; items: RecordItem[]; itemTexts: string[] };
  try {
    parsed = parseRecordBody(body);
  } catch (error) {
    if (!(error instanceof RecordFormatError)) throw error;
    parsed = { header: EMPTY_HEADER, items: [], itemTexts: [] };
  }
  return {
    chainId: row['chain_id'] as string,
    index: Number(row['idx']),
    firstSeq: Number(row['first_seq']),
    lastSeq: Number(row['last_seq']),
    prevHash: row['prev_hash'] as string,
    hash: row['hash'] as string,
    body,
    header: parsed.header,
    items: parsed.items,
    itemTexts: parsed.itemTexts,
    columns: {
      kind: row['kind'] as string,
      time: time(row['time']),
      clientAgencyId: row['client_agency_id'] as string,
      official: row['official'] as string,
      purpose: row['purpose'] as string,
      caseId: row['case_id'] as string,
    },
  };
}

/** The entries of records from seq `fromSeq` on, at most `limit`. */
export function entriesFrom(records: readonly StoredRecord[], fromSeq: number, limit: number): StoredEntry[] {
  const entries: StoredEntry[] = [];
  for (const record of records) {
    for (const entry of recordEntries(record, record)) {
      if (entry.seq < fromSeq) continue;
      if (entries.length === limit) return entries;
      entries.push(entry);
    }
  }
  return entries;
}

/** Filter key → record column, for the exact-match filters on what a request's entries share. */
const RECORD_FILTER_COLUMNS = {
  clientAgency: 'client_agency_id',
  official: 'official',
  purpose: 'purpose',
  caseId: 'case_id',
  kind: 'kind',
} as const satisfies Partial<Record<keyof AccessLogFilter, string>>;

/** Filters on what each entry says for itself: checked on the decoded entries. */
const ENTRY_FILTERS = ['subjectHmac', 'owningAgency', 'field', 'outcome', 'involvingAgency'] as const satisfies ReadonlyArray<keyof AccessLogFilter>;

/** Record columns that can be grouped on directly (summing each record's entries); `day` is dialect-specific. */
export const RECORD_DIMENSION_COLUMNS: Partial<Record<Exclude<CountDimension, 'day'>, string>> = {
  clientAgency: 'client_agency_id',
  official: 'official',
  purpose: 'purpose',
  caseId: 'case_id',
  kind: 'kind',
};

/** True when the filter needs each record's entries decoded (a filter on what differs per entry). */
export function filtersEntries(filter: AccessLogFilter): boolean {
  return ENTRY_FILTERS.some((key) => filter[key] !== undefined);
}

/** The entry's value for a count dimension. */
export function dimensionValue(entry: StoredEntry, dimension: CountDimension): string {
  switch (dimension) {
    case 'clientAgency':
      return entry.clientAgencyId;
    case 'day':
      return entry.time.slice(0, 10);
    default:
      return entry[dimension];
  }
}

/** Exact check of every filter on one decoded entry (the SQL only narrows by what records share). */
export function entryMatches(filter: AccessLogFilter, entry: StoredEntry, timeFrom: string | null, timeTo: string | null): boolean {
  return (
    (filter.subjectHmac === undefined || entry.subjectHmac === filter.subjectHmac) &&
    (filter.clientAgency === undefined || entry.clientAgencyId === filter.clientAgency) &&
    (filter.owningAgency === undefined || entry.owningAgency === filter.owningAgency) &&
    (filter.involvingAgency === undefined || entry.clientAgencyId === filter.involvingAgency || entry.owningAgency === filter.involvingAgency) &&
    (filter.official === undefined || entry.official === filter.official) &&
    (filter.purpose === undefined || entry.purpose === filter.purpose) &&
    (filter.caseId === undefined || entry.caseId === filter.caseId) &&
    (filter.field === undefined || entry.field === filter.field) &&
    (filter.outcome === undefined || entry.outcome === filter.outcome) &&
    (filter.kind === undefined || entry.kind === filter.kind) &&
    (timeFrom === null || entry.time >= timeFrom) &&
    (timeTo === null || entry.time < timeTo)
  );
}

const ISO_MS_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

function badInput(message: string, details: Record<string, string> = {}): GatewayError {
  return new GatewayError('BAD_USER_INPUT', message, details);
}

/**
 * Accepts any ISO 8601 time Date can parse and normalises it to the stored form, so string
 * comparison in SQLite and timestamptz comparison in PostgreSQL agree.
 */
export function normaliseFilterTime(name: string, value: string): string {
  if (ISO_MS_UTC.test(value)) return value;
  const parsed = Date.parse(value);
  if (Number.isNaN(parsed) || !/^\d{4}-\d{2}-\d{2}/.test(value)) throw badInput(`${name} must be an ISO 8601 time.`, { argument: name });
  return new Date(parsed).toISOString();
}

/** Refuses a malformed filter with BAD_USER_INPUT, naming the argument; returns the normalised time bounds. */
export function checkFilter(filter: AccessLogFilter): { timeFrom: string | null; timeTo: string | null } {
  for (const key of ['subjectHmac', 'clientAgency', 'owningAgency', 'involvingAgency', 'official', 'purpose', 'caseId', 'field', 'outcome', 'kind'] as const) {
    const value = filter[key];
    if (value !== undefined && typeof value !== 'string') throw badInput(`Filter ${key} must be a string.`, { argument: key });
  }
  if (filter.outcome !== undefined && !(ACCESS_OUTCOMES as readonly string[]).includes(filter.outcome)) {
    throw badInput(`Filter outcome must be one of ${ACCESS_OUTCOMES.join(', ')}.`, { argument: 'outcome' });
  }
  return {
    timeFrom: filter.timeFrom === undefined ? null : normaliseFilterTime('timeFrom', filter.timeFrom),
    timeTo: filter.timeTo === undefined ? null : normaliseFilterTime('timeTo', filter.timeTo),
  };
}

/**
 * WHERE clause (without the keyword) on the records table, aliased `r`, and its parameters, in
 * order: the filters on what a record's entries share, and the time bounds on `timeColumn` (the
 * subject index's own time column when the query goes through it). `placeholder(i)` renders the
 * i-th (1-based). Filters on what differs per entry are left to entryMatches.
 */
export function buildRecordWhere(
  filter: AccessLogFilter,
  placeholder: (index: number) => string,
  options: { readonly firstIndex?: number; readonly timeColumn?: string; readonly timeCast?: string } = {},
): { sql: string; params: unknown[] } {
  const { timeFrom, timeTo } = checkFilter(filter);
  const firstIndex = options.firstIndex ?? 1;
  const timeColumn = options.timeColumn ?? 'r.time';
  const cast = options.timeCast ?? '';
  const clauses: string[] = [];
  const params: unknown[] = [];
  const add = (clause: (p: string) => string, value: unknown) => {
    params.push(value);
    clauses.push(clause(placeholder(firstIndex + params.length - 1)));
  };
  for (const [key, column] of Object.entries(RECORD_FILTER_COLUMNS) as Array<[keyof typeof RECORD_FILTER_COLUMNS, string]>) {
    const value = filter[key];
    if (value !== undefined) add((p) => `r.${column} = ${p}`, value);
  }
  if (timeFrom !== null) add((p) => `${timeColumn} >= ${p}${cast}`, timeFrom);
  if (timeTo !== null) add((p) => `${timeColumn} < ${p}${cast}`, timeTo);
  return { sql: clauses.length > 0 ? clauses.join(' AND ') : 'TRUE', params };
}

export interface CursorPosition {
  readonly time: string;
  readonly chainId: string;
  readonly seq: number;
}

/** The cursor is the sort key of the last row served; opaque to clients so the encoding may change. */
export function encodeCursor(position: CursorPosition): string {
  return Buffer.from(JSON.stringify(['c1', position.time, position.chainId, position.seq]), 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string): CursorPosition {
  try {
    const decoded: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(decoded) && decoded.length === 4 && decoded[0] === 'c1') {
      const [, time, chainId, seq] = decoded as unknown[];
      if (typeof time === 'string' && ISO_MS_UTC.test(time) && typeof chainId === 'string' && Number.isSafeInteger(seq) && (seq as number) > 0) {
        return { time, chainId, seq: seq as number };
      }
    }
  } catch {
    // fall through: any undecodable cursor is the same client error
  }
  throw badInput('The cursor is not one this API issued.', { argument: 'cursor' });
}

export const MAX_PAGE_SIZE = 1000;

export function checkLimit(limit: number): void {
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_SIZE) {
    throw badInput(`limit must be a whole number 1..${MAX_PAGE_SIZE}.`, { argument: 'limit' });
  }
}

/**
 * Row mappers for the tables both stores share. PostgreSQL hands bigints over as strings and
 * timestamps as Dates; SQLite hands over numbers and strings, which these read unchanged.
 */
type Row = Record<string, unknown>;

// bigint arrives as a string; seqs and counts stay far below 2^53.
export const num = (value: unknown): number => Number(value);
export const iso = (value: unknown): string => (value instanceof Date ? value.toISOString() : String(value));

export function toCheckpoint(row: Row): StoredCheckpoint {
  return {
    chainId: row['chain_id'] as string,
    seq: num(row['seq']),
    headHash: row['head_hash'] as string,
    count: num(row['count']),
    time: row['time'] as string,
    jws: row['jws'] as string,
  };
}

export function toPurge(row: Row): StoredPurge {
  return {
    chainId: row['chain_id'] as string,
    uptoSeq: num(row['upto_seq']),
    headHash: row['head_hash'] as string,
    purgedCount: num(row['purged_count']),
    time: row['time'] as string,
    jws: row['jws'] as string,
    ...(typeof row['note'] === 'string' ? { note: row['note'] } : {}),
  };
}

export function toTreeHead(row: Row): StoredTreeHead {
  return {
    chainId: row['chain_id'] as string,
    size: num(row['tree_size']),
    rootHash: row['root_hash'] as string,
    time: row['time'] as string,
    note: row['note'] as string,
  };
}

export function toHold(row: Row): LegalHold {
  return {
    id: num(row['id']),
    caseId: (row['case_id'] as string | null) ?? null,
    subjectHmac: (row['subject_hmac'] as string | null) ?? null,
    reason: (row['reason'] as string | null) ?? null,
    createdAt: iso(row['created_at']),
  };
}
