import { GatewayError } from '../../errors/index.js';
import { ACCESS_OUTCOMES, type StoredEntry } from '../entry.js';
import type { AccessLogFilter, CountDimension } from './AccessLogStore.js';

/** Shared by both SQL stores: column names, filters, cursors. Dialects differ only in placeholders and the time type. */

/** Entry columns in insert order, paired with their StoredEntry property. */
export const ENTRY_COLUMNS = [
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
] as const satisfies ReadonlyArray<readonly [string, keyof StoredEntry]>;

export const ENTRY_COLUMN_LIST = ENTRY_COLUMNS.map(([column]) => column).join(', ');

/** Filter key → column, for exact-match filters. */
const FILTER_COLUMNS = {
  subjectHmac: 'subject_hmac',
  clientAgency: 'client_agency_id',
  owningAgency: 'owning_agency',
  official: 'official',
  purpose: 'purpose',
  caseId: 'case_id',
  field: 'field',
  outcome: 'outcome',
  kind: 'kind',
} as const satisfies Partial<Record<keyof AccessLogFilter, string>>;

/** Columns that can be grouped on directly; `day` is dialect-specific. */
export const DIMENSION_COLUMNS: Record<Exclude<CountDimension, 'day'>, string> = {
  clientAgency: 'client_agency_id',
  owningAgency: 'owning_agency',
  official: 'official',
  purpose: 'purpose',
  caseId: 'case_id',
  field: 'field',
  outcome: 'outcome',
  kind: 'kind',
};

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

/** WHERE clause (without the keyword) and its parameters, in order; `placeholder(i)` renders the i-th (1-based). */
export function buildWhere(filter: AccessLogFilter, placeholder: (index: number) => string, firstIndex = 1): { sql: string; params: unknown[] } {
  const clauses: string[] = [];
  const params: unknown[] = [];
  const add = (clause: (p: string) => string, value: unknown) => {
    params.push(value);
    clauses.push(clause(placeholder(firstIndex + params.length - 1)));
  };
  for (const [key, column] of Object.entries(FILTER_COLUMNS) as Array<[keyof typeof FILTER_COLUMNS, string]>) {
    const value = filter[key];
    if (value === undefined) continue;
    if (typeof value !== 'string') throw badInput(`Filter ${key} must be a string.`, { argument: key });
    if (key === 'outcome' && !(ACCESS_OUTCOMES as readonly string[]).includes(value)) {
      throw badInput(`Filter outcome must be one of ${ACCESS_OUTCOMES.join(', ')}.`, { argument: key });
    }
    add((p) => `${column} = ${p}`, value);
  }
  if (filter.involvingAgency !== undefined) {
    if (typeof filter.involvingAgency !== 'string') throw badInput('Filter involvingAgency must be a string.', { argument: 'involvingAgency' });
    params.push(filter.involvingAgency, filter.involvingAgency);
    const n = firstIndex + params.length;
    clauses.push(`(client_agency_id = ${placeholder(n - 2)} OR owning_agency = ${placeholder(n - 1)})`);
  }
  if (filter.timeFrom !== undefined) add((p) => `time >= ${p}`, normaliseFilterTime('timeFrom', filter.timeFrom));
  if (filter.timeTo !== undefined) add((p) => `time < ${p}`, normaliseFilterTime('timeTo', filter.timeTo));
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

/** Turns the query's row order into a page: the extra row fetched tells whether there is a next page. */
export function toPage(rows: StoredEntry[], limit: number): { entries: StoredEntry[]; nextCursor: string | null } {
  const entries = rows.slice(0, limit);
  const last = entries[entries.length - 1];
  return { entries, nextCursor: rows.length > limit && last ? encodeCursor(last) : null };
}
