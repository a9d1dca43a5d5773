/**
 * Swedish personal identity numbers (personnummer, Skatteverket SKV 704) and coordination
 * numbers (samordningsnummer, SKV 707: the day of birth plus 60).
 *
 * Canonical form here is 12 digits, YYYYMMDDNNNC. The check digit C is the Luhn digit of the
 * ten digits YYMMDDNNN.
 */

export type IdentityNumberKind = 'PERSONNUMMER' | 'SAMORDNINGSNUMMER';

export interface ParsedPersonnummer {
  /** 12 digits, YYYYMMDDNNNC. */
  readonly canonical: string;
  readonly kind: IdentityNumberKind;
  /** ISO date of birth (for a samordningsnummer, the day with 60 subtracted). */
  readonly dateOfBirth: string;
  readonly sex: 'FEMALE' | 'MALE';
}

export type PersonnummerProblem = 'NOT_A_STRING' | 'WRONG_LENGTH' | 'NOT_DIGITS' | 'INVALID_DATE' | 'INVALID_CHECK_DIGIT';

export class InvalidPersonnummerError extends Error {
  constructor(
    readonly problem: PersonnummerProblem,
    message: string,
  ) {
    super(message);
    this.name = 'InvalidPersonnummerError';
  }
}

/** Luhn check digit over a string of digits (weights 2,1,2,1,... from the left, as SKV 704 does for nine digits). */
export function luhnCheckDigit(digits: string): number {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = (digits.charCodeAt(i) - 48) * (i % 2 === 0 ? 2 : 1);
    if (d > 9) d -= 9;
    sum += d;
  }
  return (10 - (sum % 10)) % 10;
}

const SHAPE = /^(\d{8})-?(\d{4})$/;

/**
 * Parses YYYYMMDDNNNC or YYYYMMDD-NNNC. Ten-digit forms are refused on purpose: their century
 * is ambiguous, and a wrong century is a different person. Messages never echo the input.
 */
export function parsePersonnummer(input: unknown): ParsedPersonnummer {
  if (typeof input !== 'string') {
    throw new InvalidPersonnummerError('NOT_A_STRING', 'Personnummer must be a string of 12 digits (YYYYMMDDNNNC).');
  }
  const compact = input.trim();
  if (!/^[\d-]*$/.test(compact)) {
    throw new InvalidPersonnummerError('NOT_DIGITS', 'Personnummer may contain only digits and one hyphen (YYYYMMDD-NNNC).');
  }
  const match = SHAPE.exec(compact);
  if (!match) {
    const digitCount = compact.replace(/-/g, '').length;
    throw new InvalidPersonnummerError('WRONG_LENGTH', `Personnummer must have 12 digits (YYYYMMDDNNNC); got ${digitCount}.`);
  }
  const canonical = `${match[1]}${match[2]}`;
  const year = Number(canonical.slice(0, 4));
  const month = Number(canonical.slice(4, 6));
  const rawDay = Number(canonical.slice(6, 8));
  const kind: IdentityNumberKind = rawDay > 60 ? 'SAMORDNINGSNUMMER' : 'PERSONNUMMER';
  const day = kind === 'SAMORDNINGSNUMMER' ? rawDay - 60 : rawDay;
  if (!isValidDate(year, month, day)) {
    throw new InvalidPersonnummerError(
      'INVALID_DATE',
      kind === 'SAMORDNINGSNUMMER' ? 'Samordningsnummer has an invalid date of birth (day minus 60 is not a day of that month).' : 'Personnummer has an invalid date of birth.',
    );
  }
  const expected = luhnCheckDigit(canonical.slice(2, 11));
  if (expected !== Number(canonical[11])) {
    throw new InvalidPersonnummerError('INVALID_CHECK_DIGIT', 'Personnummer has an invalid check digit.');
  }
  const serial = Number(canonical[10]);
  return {
    canonical,
    kind,
    dateOfBirth: `${canonical.slice(0, 4)}-${canonical.slice(4, 6)}-${String(day).padStart(2, '0')}`,
    sex: serial % 2 === 1 ? 'MALE' : 'FEMALE',
  };
}

export function isValidPersonnummer(input: unknown): boolean {
  try {
    parsePersonnummer(input);
    return true;
  } catch {
    return false;
  }
}

/** Builds a valid number from a birth date, a three-digit serial and the kind. */
export function makePersonnummer(dateOfBirth: string, serial: number, kind: IdentityNumberKind = 'PERSONNUMMER'): string {
  const [y, m, d] = dateOfBirth.split('-');
  if (!y || !m || !d) throw new TypeError('dateOfBirth must be YYYY-MM-DD');
  if (!Number.isInteger(serial) || serial < 0 || serial > 999) throw new TypeError('serial must be an integer 0..999');
  const day = kind === 'SAMORDNINGSNUMMER' ? Number(d) + 60 : Number(d);
  const first11 = `${y}${m}${String(day).padStart(2, '0')}${String(serial).padStart(3, '0')}`;
  return `${first11}${luhnCheckDigit(first11.slice(2))}`;
}

function isValidDate(year: number, month: number, day: number): boolean {
  if (year < 1800 || month < 1 || month > 12 || day < 1) return false;
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  return day <= daysInMonth;
}

/** 10 or 12 digits, with or without a -, + or space before the last four, not inside a longer run of digits. */
const SPELLED_IN_TEXT = /(?<!\d)(\d{8}|\d{6})[-+ ]?(\d{4})(?!\d)/g;

/**
 * Whether a free text carries what may be a personnummer or samordningsnummer in any usual
 * spelling (YYYYMMDDNNNC, YYMMDD-NNNC, YYMMDD+NNNC, with a space, inside other words): a date
 * that is a date, in either century for ten digits, and a check digit that holds. For texts
 * that must not carry one: an official's id, a case id or an operation name, which the access
 * log keeps in plain text.
 */
export function containsPersonnummer(text: string): boolean {
  for (const [, date, serial] of text.matchAll(SPELLED_IN_TEXT)) {
    const candidates = date!.length === 8 ? [`${date}${serial}`] : [`19${date}${serial}`, `20${date}${serial}`];
    if (candidates.some(isValidPersonnummer)) return true;
  }
  return false;
}
