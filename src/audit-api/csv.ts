import type { AuditEntryView } from './auditService.js';
import { labeller, type Vocabulary } from './vocabulary.js';

/** Columns of the export: the entry's own fields, and beside three of them what a person reads. */
export const CSV_COLUMNS = [
  'id',
  'kind',
  'time',
  'localTime',
  'requestId',
  'clientAgencyId',
  'clientAgencyOrgNumber',
  'official',
  'purpose',
  'purposeLabel',
  'legalBasis',
  'processingRegisterRecordId',
  'processingRegisterVersion',
  'caseId',
  'subject',
  'field',
  'fieldLabel',
  'category',
  'owningAgency',
  'outcome',
  'outcomeCode',
  'operationName',
  'documentHash',
  'chainId',
  'seq',
  'hash',
] as const;

type Column = (typeof CSV_COLUMNS)[number];

/**
 * The dialect Excel opens directly in a Swedish locale: `;` between cells (the list separator
 * where the decimal separator is a comma), CRLF line ends, and a UTF-8 byte order mark so
 * å, ä and ö are not read as Windows-1252.
 */
export const CSV_SEPARATOR = ';';
const BOM = '\uFEFF';

/**
 * RFC 4180 quoting with `;`. A cell starting with = + - @ is prefixed with ' so a spreadsheet
 * opens it as text: entries carry client-chosen text (case ids, officials) that must not become
 * formulas.
 */
function cell(value: unknown): string {
  if (value === null || value === undefined) return '';
  let text = String(value);
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[";\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** `2026-03-01 11:05:09` in the time zone: a form Excel recognises as a date and time. */
function localTime(iso: string, timeZone: string): string {
  return new Intl.DateTimeFormat('sv-SE', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' }).format(new Date(iso));
}

export function entriesToCsv(entries: readonly AuditEntryView[], options: { readonly vocabulary: Vocabulary; readonly language: 'sv' | 'en'; readonly timeZone: string }): string {
  const field = labeller(options.vocabulary.fields, options.language);
  const purpose = labeller(options.vocabulary.purposes, options.language);
  const value = (entry: AuditEntryView, column: Column): unknown => {
    switch (column) {
      case 'localTime':
        return localTime(entry.time, options.timeZone);
      case 'purposeLabel':
        return purpose(entry.purpose);
      case 'fieldLabel':
        return entry.kind === 'access' ? field(entry.field) : '';
      case 'kind':
      case 'outcome':
        // The API's spelling, as the filters take it.
        return entry[column].toUpperCase().replace(/-/g, '_');
      default:
        return entry[column];
    }
  };
  const lines = [CSV_COLUMNS.join(CSV_SEPARATOR)];
  for (const entry of entries) lines.push(CSV_COLUMNS.map((column) => cell(value(entry, column))).join(CSV_SEPARATOR));
  return `${BOM}${lines.join('\r\n')}\r\n`;
}
