import { describe, expect, it } from 'vitest';
import { InvalidPersonnummerError, isValidPersonnummer, luhnCheckDigit, makePersonnummer, parsePersonnummer, type PersonnummerProblem } from '../src/personnummer/index.js';

describe('parsePersonnummer', () => {
  it.each([
    { input: '191212121212', canonical: '191212121212', kind: 'PERSONNUMMER', dateOfBirth: '1912-12-12', sex: 'MALE' },
    { input: '19121212-1212', canonical: '191212121212', kind: 'PERSONNUMMER', dateOfBirth: '1912-12-12', sex: 'MALE' },
    { input: '198502284725', canonical: '198502284725', kind: 'PERSONNUMMER', dateOfBirth: '1985-02-28', sex: 'FEMALE' },
    { input: '200002290153', canonical: '200002290153', kind: 'PERSONNUMMER', dateOfBirth: '2000-02-29', sex: 'MALE' },
    { input: ' 202412318038 ', canonical: '202412318038', kind: 'PERSONNUMMER', dateOfBirth: '2024-12-31', sex: 'MALE' },
    { input: '199007632384', canonical: '199007632384', kind: 'SAMORDNINGSNUMMER', dateOfBirth: '1990-07-03', sex: 'FEMALE' },
    { input: '19780191-9908', canonical: '197801919908', kind: 'SAMORDNINGSNUMMER', dateOfBirth: '1978-01-31', sex: 'FEMALE' },
  ])('accepts $input as a $kind', ({ input, ...expected }) => {
    expect(parsePersonnummer(input)).toEqual(expected);
    expect(isValidPersonnummer(input)).toBe(true);
  });

  it.each<{ name: string; input: unknown; problem: PersonnummerProblem }>([
    { name: 'a bad check digit', input: '191212121213', problem: 'INVALID_CHECK_DIGIT' },
    { name: 'a bad check digit on a samordningsnummer', input: '199007632385', problem: 'INVALID_CHECK_DIGIT' },
    { name: 'February 29 in a common year', input: '190102291234', problem: 'INVALID_DATE' },
    { name: 'month 13', input: '198513011234', problem: 'INVALID_DATE' },
    { name: 'day 00', input: '198501001234', problem: 'INVALID_DATE' },
    { name: 'samordningsnummer day 92 (31 + 61)', input: '198501921234', problem: 'INVALID_DATE' },
    { name: 'a ten-digit number (ambiguous century)', input: '8502284725', problem: 'WRONG_LENGTH' },
    { name: 'thirteen digits', input: '1985022847251', problem: 'WRONG_LENGTH' },
    { name: 'the empty string', input: '', problem: 'WRONG_LENGTH' },
    { name: 'a hyphen in the wrong place', input: '198502-284725', problem: 'WRONG_LENGTH' },
    { name: 'letters', input: '19850228472X', problem: 'NOT_DIGITS' },
    { name: 'a plus separator', input: '19121212+1212', problem: 'NOT_DIGITS' },
    { name: 'a number instead of a string', input: 191212121212, problem: 'NOT_A_STRING' },
    { name: 'null', input: null, problem: 'NOT_A_STRING' },
  ])('refuses $name with $problem', ({ input, problem }) => {
    let caught: unknown;
    try {
      parsePersonnummer(input);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(InvalidPersonnummerError);
    expect((caught as InvalidPersonnummerError).problem).toBe(problem);
    expect(isValidPersonnummer(input)).toBe(false);
  });

  it('never echoes the input in its message', () => {
    for (const input of ['191212121213', '198513011234', '19850228472X']) {
      expect(() => parsePersonnummer(input)).toThrow(expect.objectContaining({ message: expect.not.stringContaining(input.slice(0, 8)) }));
    }
  });
});

describe('makePersonnummer', () => {
  it.each([
    { dateOfBirth: '1912-12-12', serial: 121, kind: 'PERSONNUMMER' as const, expected: '191212121212' },
    { dateOfBirth: '1990-07-03', serial: 238, kind: 'SAMORDNINGSNUMMER' as const, expected: '199007632384' },
    { dateOfBirth: '2024-12-31', serial: 803, kind: 'PERSONNUMMER' as const, expected: '202412318038' },
  ])('builds $expected', ({ dateOfBirth, serial, kind, expected }) => {
    expect(makePersonnummer(dateOfBirth, serial, kind)).toBe(expected);
  });

  it('round-trips through parsePersonnummer for every serial of a day', () => {
    for (let serial = 0; serial <= 999; serial++) {
      const parsed = parsePersonnummer(makePersonnummer('1966-03-09', serial));
      expect(parsed.dateOfBirth).toBe('1966-03-09');
      expect(parsed.sex).toBe(serial % 2 === 1 ? 'MALE' : 'FEMALE');
    }
  });

  it.each([
    { name: 'a serial above 999', dateOfBirth: '1990-01-01', serial: 1000 },
    { name: 'a negative serial', dateOfBirth: '1990-01-01', serial: -1 },
    { name: 'a fractional serial', dateOfBirth: '1990-01-01', serial: 1.5 },
    { name: 'a date without dashes', dateOfBirth: '19900101', serial: 1 },
  ])('throws a TypeError for $name', ({ dateOfBirth, serial }) => {
    expect(() => makePersonnummer(dateOfBirth, serial)).toThrow(TypeError);
  });
});

describe('luhnCheckDigit', () => {
  it.each([
    { digits: '121212121', check: 2 },
    { digits: '850228472', check: 5 },
    { digits: '000000000', check: 0 },
  ])('is $check for $digits', ({ digits, check }) => {
    expect(luhnCheckDigit(digits)).toBe(check);
  });
});
