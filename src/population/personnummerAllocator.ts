import { makePersonnummer, type IdentityNumberKind } from '../personnummer/index.js';
import { dayNumber, isoDate } from './dates.js';
import type { Random } from './random.js';

const FIRST_BIRTH_DATE = '1900-01-01';
const LAST_BIRTH_DATE = '2099-12-31';
const SERIALS = 1000;

/**
 * Hands out unique identity numbers. A bit per (kind, birth day, serial) remembers what is taken:
 * about 9 MB for two centuries, so uniqueness holds for a million persons without keeping them.
 */
export class PersonnummerAllocator {
  readonly #firstDay = dayNumber(FIRST_BIRTH_DATE);
  readonly #days = dayNumber(LAST_BIRTH_DATE) - this.#firstDay + 1;
  readonly #taken = new Uint8Array(Math.ceil((2 * this.#days * SERIALS) / 8));

  /**
   * A free number for the birth date, sex and kind. The serial's last digit carries the sex (odd
   * for men). When a day runs out of serials (about 500 per sex), the next day is used, as would happen
   * with an adjusted birth date, and the date actually used is returned.
   */
  allocate(random: Random, dateOfBirth: string, sex: 'FEMALE' | 'MALE', kind: IdentityNumberKind): { personnummer: string; dateOfBirth: string } {
    let day = dayNumber(dateOfBirth);
    for (;;) {
      if (day - this.#firstDay >= this.#days) throw new RangeError('no free personnummer left near the birth date');
      const serial = this.#freeSerial(random, day, sex, kind);
      if (serial !== undefined) {
        const date = isoDate(day);
        return { personnummer: makePersonnummer(date, serial, kind), dateOfBirth: date };
      }
      day += 1;
    }
  }

  #freeSerial(random: Random, day: number, sex: 'FEMALE' | 'MALE', kind: IdentityNumberKind): number | undefined {
    const parity = sex === 'MALE' ? 1 : 0;
    const base = ((kind === 'SAMORDNINGSNUMMER' ? this.#days : 0) + day - this.#firstDay) * SERIALS;
    const start = random.int(0, SERIALS / 2 - 1);
    for (let step = 0; step < SERIALS / 2; step++) {
      const serial = ((start + step) % (SERIALS / 2)) * 2 + parity;
      if (serial === 0) continue; // 000 is not issued
      const bit = base + serial;
      const byte = bit >>> 3;
      const mask = 1 << (bit & 7);
      const current = this.#taken[byte] ?? 0;
      if ((current & mask) === 0) {
        this.#taken[byte] = current | mask;
        return serial;
      }
    }
    return undefined;
  }
}
