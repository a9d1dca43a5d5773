import { hash } from 'node:crypto';
import type { AccessLogEntry, AccessLogEntryKind, AccessOutcome, StoredEntry, UnchainedEntry } from './entry.js';

/**
 * The stored unit of the access log: one record per request, its entries inside. Every entry of
 * a record() call that shares the request's header (time, caller, purpose, case, operation) goes
 * into one record; the gateway builds all of a request's entries with one header, so a request is
 * one record. Entries keep their own seq (the audit API's `chainId:seq`, the receipts), numbered
 * across records without gaps: a record holds seqs firstSeq..lastSeq.
 *
 * Why: the row-per-entry format paid for a row, six index entries, a chain hash, a tree leaf and a
 * tree node per entry. A record pays for those once per request, and the per-entry cost is one
 * entry commitment hash and its share of one serialisation.
 */

/**
 * Tags the body format; a new format is a new tag, never a silent change. v3 (written since
 * 2026-12) lists a record's subjects and its (owner, outcome, basis) tails once each and its items
 * as references into them; v2 (still read) spelled both out in every item. Both read back to the
 * same items, and an item's text (itemText, what entry commitments and openings hash) is the same
 * in either: only the stored body and its chain hash differ.
 */
export const RECORD_FORMAT = 'access-log-record-v3';
/** The previous body format, read and verified as written. */
export const RECORD_FORMAT_V2 = 'access-log-record-v2';
/** Tags an entry commitment (what a citizen's report opens). */
export const ENTRY_FORMAT = 'access-log-entry-v2';

/** What all entries of a record share. */
export interface RecordHeader {
  readonly kind: AccessLogEntryKind;
  readonly time: string;
  readonly requestId: string;
  readonly clientAgencyOrgNumber: string;
  readonly clientAgencyId: string;
  readonly official: string;
  readonly purpose: string;
  readonly caseId: string;
  readonly operationName: string | null;
  readonly documentHash: string;
}

/** What each entry of a record says for itself. */
export interface RecordItem {
  readonly subjectEnc: string | null;
  readonly subjectHmac: string | null;
  readonly field: string;
  readonly owningAgency: string;
  readonly outcome: AccessOutcome;
  readonly outcomeCode: string | null;
  readonly legalBasis: string;
  readonly processingRegisterRecordId: string;
  readonly processingRegisterVersion: string;
}

/** A record before it has a place in a chain. */
export interface RecordDraft {
  readonly header: RecordHeader;
  readonly items: readonly RecordItem[];
  /** Each item as it is spelled inside the body (itemText): the entry commitments hash them again without a second serialisation. */
  readonly itemTexts: readonly string[];
  /** The canonical serialisation of header and items: what is stored and what the chain hash covers. */
  readonly body: string;
}

/** The columns a store keeps beside the body so audit queries need not decode every record. */
export interface RecordColumns {
  readonly kind: string;
  readonly time: string;
  readonly clientAgencyId: string;
  readonly official: string;
  readonly purpose: string;
  readonly caseId: string;
}

/** A record placed in a chain: leaf `index` of the chain's tree, entries firstSeq..lastSeq. */
export interface StoredRecord extends RecordDraft {
  readonly chainId: string;
  /** 0, 1, 2, ... per chain, without gaps: the record's leaf index in the chain's Merkle tree. */
  readonly index: number;
  readonly firstSeq: number;
  readonly lastSeq: number;
  readonly prevHash: string;
  readonly hash: string;
  /**
   * The query columns as a store read them back (absent on records built in memory). The verifier
   * compares them with the body: a row whose columns were edited would otherwise answer queries
   * falsely while its hash still held.
   */
  readonly columns?: RecordColumns;
}

function sameHeader(entry: UnchainedEntry, header: RecordHeader): boolean {
  return (
    entry.time === header.time &&
    entry.requestId === header.requestId &&
    entry.kind === header.kind &&
    entry.clientAgencyId === header.clientAgencyId &&
    entry.clientAgencyOrgNumber === header.clientAgencyOrgNumber &&
    entry.official === header.official &&
    entry.purpose === header.purpose &&
    entry.caseId === header.caseId &&
    entry.operationName === header.operationName &&
    entry.documentHash === header.documentHash
  );
}

/** One entry's part of a body: a JSON array in a fixed order. JSON.stringify of strings and nulls is deterministic. */
export function itemText(item: RecordItem): string {
  return JSON.stringify([
    item.subjectEnc,
    item.subjectHmac,
    item.field,
    item.owningAgency,
    item.outcome,
    item.outcomeCode,
    item.legalBasis,
    item.processingRegisterRecordId,
    item.processingRegisterVersion,
  ]);
}

/** The header's part of a body: a JSON array in a fixed order, without its closing bracket. */
function headText(format: string, header: RecordHeader): string {
  const head = JSON.stringify([
    format,
    header.kind,
    header.time,
    header.requestId,
    header.clientAgencyOrgNumber,
    header.clientAgencyId,
    header.official,
    header.purpose,
    header.caseId,
    header.operationName,
    header.documentHash,
  ]);
  return head.slice(0, -1);
}

/** A v2 body: the header, its last element the array of the entries' item texts. */
function recordBodyV2(header: RecordHeader, itemTexts: readonly string[]): string {
  return `${headText(RECORD_FORMAT_V2, header)},[${itemTexts.join(',')}]]`;
}

/** An item's subject as a body spells it: its ciphertext and keyed hash, `"enc","hmac"` (or `null,null`). */
function subjectPairText(item: Pick<RecordItem, 'subjectEnc' | 'subjectHmac'>): string {
  return `${JSON.stringify(item.subjectEnc)},${JSON.stringify(item.subjectHmac)}`;
}

/**
 * What an item says after its subject and field, as item texts spell it: `"owner",…,"version"]`.
 * The one spelling of a tail: for a record's items (recordBody) and straight from entries (draftEntries).
 */
function tailText(owningAgency: string, outcome: string, outcomeCode: string | null, legalBasis: string, registerRecordId: string, registerVersion: string): string {
  return JSON.stringify([owningAgency, outcome, outcomeCode, legalBasis, registerRecordId, registerVersion]).slice(1);
}

/**
 * An item text (itemText's bytes) from its three parts already spelled: subjectPairText, the field
 * as JSON, tailText. Drafting and reading a v3 body have those parts once per subject and tail,
 * not once per entry.
 */
function itemTextOfParts(subjectText: string, fieldJson: string, tail: string): string {
  return `[${subjectText},${fieldJson},${tail}`;
}

/**
 * Builds the three lists of a v3 body as items come: each distinct subject and tail once, in order
 * of first use, and per item `[subject, field, tail]` by position. One request reads many fields of
 * few persons from few owners, so the ciphertexts, keyed hashes and legal bases, most of a v2
 * body, are spelled once per record instead of once per entry.
 */
class BodyBuilder {
  private readonly subjects = new Map<string, number>();
  private readonly tails = new Map<string, number>();
  private readonly refs: string[] = [];

  /** `subject` as subjectPairText spells it, `tail` as tailText does, `fieldJson` the field as JSON. */
  add(subject: string, fieldJson: string, tail: string): void {
    let s = this.subjects.get(subject);
    if (s === undefined) this.subjects.set(subject, (s = this.subjects.size));
    let t = this.tails.get(tail);
    if (t === undefined) this.tails.set(tail, (t = this.tails.size));
    this.refs.push(`[${s},${fieldJson},${t}]`);
  }

  body(header: RecordHeader): string {
    return `${headText(RECORD_FORMAT, header)},[${[...this.subjects.keys()].map((pair) => `[${pair}]`).join(',')}],[${[...this.tails.keys()].map((tail) => `[${tail}`).join(',')}],[${this.refs.join(',')}]]`;
  }
}

/** The body: the header in a fixed order, then the record's subjects, tails and items (BodyBuilder). */
export function recordBody(header: RecordHeader, items: readonly RecordItem[]): string {
  const builder = new BodyBuilder();
  for (const item of items) {
    builder.add(
      subjectPairText(item),
      JSON.stringify(item.field),
      tailText(item.owningAgency, item.outcome, item.outcomeCode, item.legalBasis, item.processingRegisterRecordId, item.processingRegisterVersion),
    );
  }
  return builder.body(header);
}

/** The header fields of anything that carries them under their own names (a flat entry), and nothing else. */
function pickHeader(source: RecordHeader): RecordHeader {
  const { kind, time, requestId, clientAgencyOrgNumber, clientAgencyId, official, purpose, caseId, operationName, documentHash } = source;
  return { kind, time, requestId, clientAgencyOrgNumber, clientAgencyId, official, purpose, caseId, operationName, documentHash };
}

/** Groups one call's entries into records: a new record wherever the header changes. */
export function draftRecords(entries: readonly UnchainedEntry[]): RecordDraft[] {
  const drafts: RecordDraft[] = [];
  let header: RecordHeader | null = null;
  let items: RecordItem[] = [];
  let texts: string[] = [];
  const close = () => {
    if (header) drafts.push({ header, items, itemTexts: texts, body: recordBody(header, items) });
  };
  for (const entry of entries) {
    if (header === null || !sameHeader(entry, header)) {
      close();
      header = pickHeader(entry);
      items = [];
      texts = [];
    }
    const item: RecordItem = {
      subjectEnc: entry.subjectEnc,
      subjectHmac: entry.subjectHmac,
      field: entry.field,
      owningAgency: entry.owningAgency,
      outcome: entry.outcome,
      outcomeCode: entry.outcomeCode,
      legalBasis: entry.legalBasis,
      processingRegisterRecordId: entry.processingRegisterRecordId,
      processingRegisterVersion: entry.processingRegisterVersion,
    };
    items.push(item);
    texts.push(itemText(item));
  }
  close();
  return drafts;
}

/** A subject as the log keeps it: the ciphertext and the keyed hash (subjectProtection.ts). */
export interface ProtectedSubject {
  readonly subjectEnc: string;
  readonly subjectHmac: string;
}

function sameEntryHeader(entry: AccessLogEntry, previous: AccessLogEntry): boolean {
  return (
    entry.time === previous.time &&
    entry.requestId === previous.requestId &&
    (entry.kind ?? 'access') === (previous.kind ?? 'access') &&
    (entry.clientAgency === previous.clientAgency || (entry.clientAgency.id === previous.clientAgency.id && entry.clientAgency.organisationNumber === previous.clientAgency.organisationNumber)) &&
    entry.official === previous.official &&
    entry.purpose === previous.purpose &&
    entry.caseId === previous.caseId &&
    entry.operationName === previous.operationName &&
    entry.documentHash === previous.documentHash
  );
}

/**
 * The drafts of one call's records, straight from its entries: what draftRecords makes of the
 * same entries flattened, byte for byte (test/audit/recordDrafts.test.ts holds them equal),
 * without a flat copy of each entry on the way. The item texts are put together from
 * JSON pieces, each spelled by JSON.stringify as itemText's array would spell it, and the pieces a
 * request's entries share (a subject's ciphertext and keyed hash, the owner, outcome and legal
 * basis) are spelled once. `protect` is called once per distinct subject of the call: the
 * entries of one person in one call share a ciphertext, which their keyed hash links anyway.
 */
export function draftEntries(entries: readonly AccessLogEntry[], protect: (subject: string) => ProtectedSubject): RecordDraft[] {
  const drafts: RecordDraft[] = [];
  let header: RecordHeader | null = null;
  let items: RecordItem[] = [];
  let texts: string[] = [];
  let body = new BodyBuilder();
  let previous: AccessLogEntry | undefined;
  let tail = '';
  // One request logs many fields of few persons: each person's protected form is made and spelled once per call.
  const subjects = new Map<string, { readonly value: ProtectedSubject; readonly text: string }>();
  let subjectOf: string | null = null;
  let subject: { readonly value: ProtectedSubject; readonly text: string } | null = null;
  for (const entry of entries) {
    if (previous === undefined || !sameEntryHeader(entry, previous)) {
      if (header) drafts.push({ header, items, itemTexts: texts, body: body.body(header) });
      header = {
        kind: entry.kind ?? 'access',
        time: entry.time,
        requestId: entry.requestId,
        clientAgencyOrgNumber: entry.clientAgency.organisationNumber,
        clientAgencyId: entry.clientAgency.id,
        official: entry.official,
        purpose: entry.purpose,
        caseId: entry.caseId,
        operationName: entry.operationName,
        documentHash: entry.documentHash,
      };
      items = [];
      texts = [];
      body = new BodyBuilder();
    }
    if (
      previous === undefined ||
      entry.owningAgency !== previous.owningAgency ||
      entry.outcome !== previous.outcome ||
      entry.outcomeCode !== previous.outcomeCode ||
      entry.legalBasis !== previous.legalBasis ||
      entry.processingRegisterRef.recordId !== previous.processingRegisterRef.recordId ||
      entry.processingRegisterRef.version !== previous.processingRegisterRef.version
    ) {
      tail = tailText(entry.owningAgency, entry.outcome, entry.outcomeCode, entry.legalBasis, entry.processingRegisterRef.recordId, entry.processingRegisterRef.version);
    }
    if (entry.subject !== subjectOf) {
      subjectOf = entry.subject;
      if (entry.subject === null) subject = null;
      else {
        let known = subjects.get(entry.subject);
        if (known === undefined) {
          const value = protect(entry.subject);
          known = { value, text: subjectPairText(value) };
          subjects.set(entry.subject, known);
        }
        subject = known;
      }
    }
    items.push({
      subjectEnc: subject?.value.subjectEnc ?? null,
      subjectHmac: subject?.value.subjectHmac ?? null,
      field: entry.field,
      owningAgency: entry.owningAgency,
      outcome: entry.outcome,
      outcomeCode: entry.outcomeCode,
      legalBasis: entry.legalBasis,
      processingRegisterRecordId: entry.processingRegisterRef.recordId,
      processingRegisterVersion: entry.processingRegisterRef.version,
    });
    const subjectText = subject?.text ?? 'null,null';
    const fieldJson = JSON.stringify(entry.field);
    texts.push(itemTextOfParts(subjectText, fieldJson, tail));
    body.add(subjectText, fieldJson, tail);
    previous = entry;
  }
  if (header) drafts.push({ header, items, itemTexts: texts, body: body.body(header) });
  return drafts;
}

/** A stored body that is not one this code writes (edited, or another format). */
export class RecordFormatError extends Error {
  readonly code = 'RECORD_MALFORMED';
  constructor(message: string) {
    super(message);
    this.name = 'RecordFormatError';
  }
}

const text = (value: unknown): value is string => typeof value === 'string';
const textOrNull = (value: unknown): value is string | null => value === null || typeof value === 'string';

/** Reads a body back (either format); throws RecordFormatError unless it is exactly what this code writes for its format. */
export function parseRecordBody(body: string): { header: RecordHeader; items: RecordItem[]; itemTexts: string[] } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    throw new RecordFormatError('record body is not JSON');
  }
  if (!Array.isArray(parsed)) throw new RecordFormatError(`record body is not ${RECORD_FORMAT}`);
  if (parsed[0] === RECORD_FORMAT_V2) return parseBodyV2(body, parsed);
  if (parsed[0] !== RECORD_FORMAT || parsed.length !== 14 || !Array.isArray(parsed[11]) || !Array.isArray(parsed[12]) || !Array.isArray(parsed[13])) {
    throw new RecordFormatError(`record body is not ${RECORD_FORMAT}`);
  }
  const header = readHeader(parsed);
  const subjects = parsed[11] as unknown[];
  const tails = parsed[12] as unknown[];
  const refs = parsed[13] as unknown[];
  // Each listed subject and tail spelled once, as drafting spells them (subjectPairText, tailText), not per entry.
  const subjectTexts = subjects.map((raw) => {
    if (!Array.isArray(raw) || raw.length !== 2 || !raw.every(textOrNull)) throw new RecordFormatError('record subject is not a pair of texts');
    return subjectPairText({ subjectEnc: raw[0] as string | null, subjectHmac: raw[1] as string | null });
  });
  const tailTexts = tails.map((raw) => {
    if (!Array.isArray(raw) || raw.length !== 6) throw new RecordFormatError('record tail is not a 6-value array');
    const [owningAgency, outcome, outcomeCode, legalBasis, processingRegisterRecordId, processingRegisterVersion] = raw as unknown[];
    if (![owningAgency, outcome, legalBasis, processingRegisterRecordId, processingRegisterVersion].every(text) || !textOrNull(outcomeCode)) {
      throw new RecordFormatError('record tail has a value of the wrong type');
    }
    return tailText(owningAgency as string, outcome as string, outcomeCode as string | null, legalBasis as string, processingRegisterRecordId as string, processingRegisterVersion as string);
  });
  // Canonical spelling only: one record, one body. Each subject and tail listed once, every one
  // used, in order of first use: each reference is to one already used or to the next one listed.
  if (new Set(subjectTexts).size !== subjectTexts.length || new Set(tailTexts).size !== tailTexts.length) throw new RecordFormatError('record lists a subject or tail twice');
  if (refs.length === 0) throw new RecordFormatError('record has no entries');
  let subjectsUsed = 0;
  let tailsUsed = 0;
  const items: RecordItem[] = new Array(refs.length);
  const itemTexts: string[] = new Array(refs.length);
  for (let i = 0; i < refs.length; i++) {
    const raw = refs[i];
    if (!Array.isArray(raw) || raw.length !== 3) throw new RecordFormatError('record entry is not a 3-value array');
    const [s, field, t] = raw as unknown[];
    if (!Number.isSafeInteger(s) || !Number.isSafeInteger(t) || (s as number) < 0 || (t as number) < 0 || !text(field)) throw new RecordFormatError('record entry has a value of the wrong type');
    if ((s as number) > subjectsUsed || (s as number) >= subjects.length || (t as number) > tailsUsed || (t as number) >= tails.length) {
      throw new RecordFormatError('record entry refers to no subject or tail, or out of the order of first use');
    }
    if (s === subjectsUsed) subjectsUsed++;
    if (t === tailsUsed) tailsUsed++;
    const subject = subjects[s as number] as [string | null, string | null];
    const tail = tails[t as number] as [string, AccessOutcome, string | null, string, string, string];
    // Written out, not spread: an audit query reads every record it returns this way.
    items[i] = {
      subjectEnc: subject[0],
      subjectHmac: subject[1],
      field,
      owningAgency: tail[0],
      outcome: tail[1],
      outcomeCode: tail[2],
      legalBasis: tail[3],
      processingRegisterRecordId: tail[4],
      processingRegisterVersion: tail[5],
    };
    itemTexts[i] = itemTextOfParts(subjectTexts[s as number]!, JSON.stringify(field), tailTexts[t as number]!);
  }
  if (subjectsUsed !== subjects.length || tailsUsed !== tails.length) throw new RecordFormatError('record lists a subject or tail no entry refers to');
  // What is left to differ is the spelling itself (spaces, escapes, number forms): JSON.stringify of the values read is the one spelling.
  if (`${headText(RECORD_FORMAT, header)},${JSON.stringify(subjects)},${JSON.stringify(tails)},${JSON.stringify(refs)}]` !== body) {
    throw new RecordFormatError('record body is not in its canonical spelling');
  }
  return { header, items, itemTexts };
}

function readHeader(parsed: unknown[]): RecordHeader {
  const [, kind, time, requestId, clientAgencyOrgNumber, clientAgencyId, official, purpose, caseId, operationName, documentHash] = parsed;
  if (![kind, time, requestId, clientAgencyOrgNumber, clientAgencyId, official, purpose, caseId, documentHash].every(text) || !textOrNull(operationName)) {
    throw new RecordFormatError('record header has a value of the wrong type');
  }
  return { kind, time, requestId, clientAgencyOrgNumber, clientAgencyId, official, purpose, caseId, operationName, documentHash } as RecordHeader;
}

function parseBodyV2(body: string, parsed: unknown[]): { header: RecordHeader; items: RecordItem[]; itemTexts: string[] } {
  if (parsed.length !== 12 || !Array.isArray(parsed[11])) throw new RecordFormatError(`record body is not ${RECORD_FORMAT_V2}`);
  const header = readHeader(parsed);
  const rawItems = parsed[11];
  const items = (rawItems as unknown[]).map((raw): RecordItem => {
    if (!Array.isArray(raw) || raw.length !== 9) throw new RecordFormatError('record entry is not a 9-value array');
    const [subjectEnc, subjectHmac, field, owningAgency, outcome, outcomeCode, legalBasis, processingRegisterRecordId, processingRegisterVersion] = raw as unknown[];
    if (![field, owningAgency, outcome, legalBasis, processingRegisterRecordId, processingRegisterVersion].every(text) || ![subjectEnc, subjectHmac, outcomeCode].every(textOrNull)) {
      throw new RecordFormatError('record entry has a value of the wrong type');
    }
    return { subjectEnc, subjectHmac, field, owningAgency, outcome, outcomeCode, legalBasis, processingRegisterRecordId, processingRegisterVersion } as RecordItem;
  });
  if (items.length === 0) throw new RecordFormatError('record has no entries');
  const itemTexts = items.map(itemText);
  // Canonical spelling only: one record, one body (a re-spelled body would hash differently yet read the same).
  if (recordBodyV2(header, itemTexts) !== body) throw new RecordFormatError('record body is not in its canonical spelling');
  return { header, items, itemTexts };
}

/** A v2 body of the same record (a stored v2 record, as tests and fixtures make it): what v2 wrote. */
export function recordBodyInV2(header: RecordHeader, items: readonly RecordItem[]): string {
  return recordBodyV2(header, items.map(itemText));
}

/**
 * The commitment to one entry at its place: what a record's leaf lists per entry and what a
 * citizen's report opens for their own entries, without showing the other entries of the request.
 * It is the entry's item text (as in the body) with the format, chain and seq in front. The
 * subject's ciphertext (random IV) is inside, so a commitment cannot be guessed from the visible
 * fields; the citizen sees their own subject's ciphertext and keyed hash, nobody else's.
 */
export function entryOpening(chainId: string, seq: number, itemText: string): string {
  return `${openingStart(chainId)}${seq},${itemText.slice(1)}`;
}

/** What every opening on a chain starts with; entryCommitments spells it once per record. */
function openingStart(chainId: string): string {
  return `[${JSON.stringify(ENTRY_FORMAT)},${JSON.stringify(chainId)},`;
}

export function entryCommitment(chainId: string, seq: number, itemText: string): string {
  return hash('sha256', entryOpening(chainId, seq, itemText), 'hex');
}

/** The commitments of a record's entries, seqs firstSeq on: entryCommitment of each. */
export function entryCommitments(chainId: string, firstSeq: number, itemTexts: readonly string[]): string[] {
  const start = openingStart(chainId);
  const commitments = new Array<string>(itemTexts.length);
  for (let i = 0; i < itemTexts.length; i++) commitments[i] = hash('sha256', `${start}${firstSeq + i},${itemTexts[i]!.slice(1)}`, 'hex');
  return commitments;
}

/** What an opening shows, read back by an offline verifier. */
export interface OpenedEntry {
  readonly chainId: string;
  readonly seq: number;
  readonly field: string;
  readonly owningAgency: string;
  readonly outcome: string;
  readonly outcomeCode: string | null;
  readonly legalBasis: string;
}

/** Null unless `opening` is exactly what entryOpening writes. */
export function readOpening(opening: string): OpenedEntry | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(opening);
  } catch {
    return null;
  }
  if (!Array.isArray(parsed) || parsed.length !== 12 || parsed[0] !== ENTRY_FORMAT) return null;
  const [, chainId, seq, subjectEnc, subjectHmac, field, owningAgency, outcome, outcomeCode, legalBasis, registerRecordId, registerVersion] = parsed as unknown[];
  if (![chainId, field, owningAgency, outcome, legalBasis, registerRecordId, registerVersion].every(text) || ![outcomeCode, subjectEnc, subjectHmac].every(textOrNull) || !Number.isSafeInteger(seq))
    return null;
  const item = {
    subjectEnc,
    subjectHmac,
    field,
    owningAgency,
    outcome,
    outcomeCode,
    legalBasis,
    processingRegisterRecordId: registerRecordId,
    processingRegisterVersion: registerVersion,
  } as RecordItem;
  if (entryOpening(chainId as string, seq as number, itemText(item)) !== opening) return null;
  return { chainId, seq, field, owningAgency, outcome, outcomeCode, legalBasis } as OpenedEntry;
}

/** The record's entries as the audit API and the verifier see them, each with its commitment as `hash`. */
export function recordEntries(
  record: Pick<StoredRecord, 'chainId' | 'firstSeq' | 'body'>,
  parsed: { readonly header: RecordHeader; readonly items: readonly RecordItem[]; readonly itemTexts: readonly string[] } = parseRecordBody(record.body),
): StoredEntry[] {
  const { header, items, itemTexts } = parsed;
  return items.map((item, i) => {
    const seq = record.firstSeq + i;
    return {
      chainId: record.chainId,
      seq,
      hash: entryCommitment(record.chainId, seq, itemTexts[i]!),
      kind: header.kind,
      time: header.time,
      requestId: header.requestId,
      clientAgencyOrgNumber: header.clientAgencyOrgNumber,
      clientAgencyId: header.clientAgencyId,
      official: header.official,
      purpose: header.purpose,
      legalBasis: item.legalBasis,
      processingRegisterRecordId: item.processingRegisterRecordId,
      processingRegisterVersion: item.processingRegisterVersion,
      caseId: header.caseId,
      subjectEnc: item.subjectEnc,
      subjectHmac: item.subjectHmac,
      field: item.field,
      owningAgency: item.owningAgency,
      outcome: item.outcome,
      outcomeCode: item.outcomeCode,
      operationName: header.operationName,
      documentHash: header.documentHash,
    };
  });
}

/** The query columns of a record, from its header. */
export function recordColumns(header: RecordHeader): RecordColumns {
  return { kind: header.kind, time: header.time, clientAgencyId: header.clientAgencyId, official: header.official, purpose: header.purpose, caseId: header.caseId };
}

/** Distinct subject HMACs of a record: its rows in the narrow subject index. */
export function recordSubjects(items: readonly RecordItem[]): string[] {
  const subjects: string[] = [];
  for (const item of items) if (item.subjectHmac !== null && !subjects.includes(item.subjectHmac)) subjects.push(item.subjectHmac);
  return subjects;
}
