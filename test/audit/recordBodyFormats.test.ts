import { describe, expect, it } from 'vitest';
import { draftRecords, parseRecordBody, recordBodyInV2, RecordFormatError, RECORD_FORMAT, RECORD_FORMAT_V2 } from '../../src/audit/record.js';
import { makeEntry, SUBJECTS, toUnchainedEntry } from './helpers.js';

/**
 * A v3 body lists a record's subjects and tails once and refers to them from each item
 * (src/audit/record.ts). The chain hash covers the body's bytes, so a record has exactly one
 * spelling: every other way to write the same record, and every reference that points nowhere,
 * is refused, as v2 refused any other spelling of its items.
 */
const protectedSubjects = [0, 1].map((i) => ({ subjectEnc: `v1.enc${i}`, subjectHmac: String(i).repeat(64) }));
const entries = [
  toUnchainedEntry(makeEntry({ requestId: 'r', field: 'Person.name', subject: SUBJECTS[0] }), protectedSubjects[0]!),
  toUnchainedEntry(makeEntry({ requestId: 'r', field: 'Person.income', subject: SUBJECTS[0] }), protectedSubjects[0]!),
  toUnchainedEntry(makeEntry({ requestId: 'r', field: 'Person.name', subject: SUBJECTS[1], owningAgency: 'csn', legalBasis: 'other basis' }), protectedSubjects[1]!),
  toUnchainedEntry(makeEntry({ requestId: 'r', field: 'Person.income', subject: null }), null),
];
const [draft] = draftRecords(entries);
const body = draft!.body;
const parsed = () => JSON.parse(body) as unknown[];
const respelled = (edit: (value: unknown[]) => void) => {
  const value = parsed();
  edit(value);
  return JSON.stringify(value);
};

describe('record bodies, v3', () => {
  it('lists each subject (the absent one too) and each tail once, in order of first use, and reads back to the items', () => {
    const value = parsed();
    expect(value[0]).toBe(RECORD_FORMAT);
    expect(value[11]).toEqual([
      ['v1.enc0', '0'.repeat(64)],
      ['v1.enc1', '1'.repeat(64)],
      [null, null],
    ]);
    expect((value[12] as unknown[][]).map((tail) => tail[0])).toEqual(['skatteverket', 'csn']);
    expect(value[13]).toEqual([
      [0, 'Person.name', 0],
      [0, 'Person.income', 0],
      [1, 'Person.name', 1],
      [2, 'Person.income', 0],
    ]);
    expect(parseRecordBody(body)).toEqual({ header: draft!.header, items: draft!.items, itemTexts: draft!.itemTexts });
  });

  const REFUSED: ReadonlyArray<readonly [string, string]> = [
    ['a subject listed twice', respelled((v) => (v[11] as unknown[]).push((v[11] as unknown[])[0]))],
    ['a subject nobody refers to', respelled((v) => (v[11] as unknown[]).push(['v1.other', 'f'.repeat(64)]))],
    ['a tail nobody refers to', respelled((v) => (v[12] as unknown[]).push(['kronofogden', 'released', null, 'b', 'r', '1']))],
    [
      'subjects out of the order of first use',
      respelled((v) => {
        (v[11] as unknown[]).reverse();
        for (const item of v[13] as number[][]) item[0] = 2 - item[0]!;
      }),
    ],
    [
      'tails out of the order of first use',
      respelled((v) => {
        (v[12] as unknown[]).reverse();
        for (const item of v[13] as number[][]) item[2] = 1 - item[2]!;
      }),
    ],
    ['a reference past the subjects', respelled((v) => ((v[13] as number[][])[0]![0] = 3))],
    ['a reference past the tails', respelled((v) => ((v[13] as number[][])[0]![2] = 2))],
    ['a negative reference', respelled((v) => ((v[13] as number[][])[0]![0] = -1))],
    ['a fractional reference', respelled((v) => ((v[13] as number[][])[0]![0] = 0.5))],
    ['a reference spelled as text', respelled((v) => ((v[13] as unknown[][])[0]![0] = '0'))],
    ['a reference spelled 0.0', body.replace('[[0,"Person.name",0]', '[[0.0,"Person.name",0]')],
    ['an item of four values', respelled((v) => (v[13] as unknown[][])[0]!.push(null))],
    ['a field that is not text', respelled((v) => ((v[13] as unknown[][])[0]![1] = 7))],
    ['a subject of three values', respelled((v) => (v[11] as unknown[][])[0]!.push('x'))],
    ['a subject that is a number', respelled((v) => ((v[11] as unknown[][])[0]![0] = 1))],
    ['a tail of five values', respelled((v) => (v[12] as unknown[][])[0]!.pop())],
    ['a tail whose outcome code is a number', respelled((v) => ((v[12] as unknown[][])[0]![2] = 1))],
    ['no items', respelled((v) => (v[13] = []))],
    ['a space between the values', body.replace(',[[', ', [[')],
    ['the v2 tag on a v3 body', respelled((v) => (v[0] = RECORD_FORMAT_V2))],
    ['the v3 tag on a v2 body', recordBodyInV2(draft!.header, draft!.items).replace(RECORD_FORMAT_V2, RECORD_FORMAT)],
    ['an unknown tag', respelled((v) => (v[0] = 'access-log-record-v4'))],
  ];
  for (const [form, spelled] of REFUSED) {
    it(`refuses ${form}`, () => {
      expect(spelled).not.toBe(body);
      expect(() => parseRecordBody(spelled)).toThrow(RecordFormatError);
    });
  }

  it('still reads a v2 body, only in the spelling v2 wrote', () => {
    const v2 = recordBodyInV2(draft!.header, draft!.items);
    expect(parseRecordBody(v2)).toEqual(parseRecordBody(body));
    expect(() => parseRecordBody(v2.replace(',[[', ', [['))).toThrow(RecordFormatError);
  });
});
