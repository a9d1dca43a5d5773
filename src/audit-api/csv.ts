import type { AuditEntryView } from './auditService.js';

export const CSV_COLUMNS = [
  'id',
  'kind',
  'time',
  'requestId',
  'clientAgencyId',
  'clientAgencyOrgNumber',
  'official',
  'purpose',
  'legalBasis',
  'processingRegisterRecordId',
  'processingRegisterVersion',
  'caseId',
  'subject',
  'field',
  'category',
  'owningAgency',
  'outcome',
  'outcomeCode',
  'operationName',
  'documentHash',
  'chainId',
  'seq',
  'hash',
] as const satisfies ReadonlyArray<keyof AuditEntryView>;

/**
 * RFC 4180 CSV. A cell starting with = + - @ is prefixed with ' so a spreadsheet opens it as
 * text: entries carry client-chosen text (case ids, officials) that must not become formulas.
 */
function cell(value: unknown): string {
  if (value === null || value === undefined) return '';
  let text = String(value);
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function entriesToCsv(entries: readonly AuditEntryView[]): string {
  const lines = [CSV_COLUMNS.join(',')];
  for (const entry of entries) lines.push(CSV_COLUMNS.map((column) => cell(entry[column])).join(','));
  return `${lines.join('\r\n')}\r\n`;
}
