import type { Random } from './random.js';

/**
 * Name material for synthetic persons and addresses. Given names are common ones; family names
 * and streets are composed from parts, so the combination a person gets is made up.
 */

// biome-ignore format: a word list, ten to a line, reads as a list; one to a line would be 60 lines of it
export const FEMALE_GIVEN_NAMES = [
  'Alva', 'Agnes', 'Alice', 'Anna', 'Astrid', 'Annika', 'Birgitta', 'Britt', 'Camilla', 'Cecilia',
  'Disa', 'Ebba', 'Elin', 'Elsa', 'Emma', 'Ester', 'Eva', 'Freja', 'Frida', 'Gunilla',
  'Hanna', 'Hedvig', 'Helena', 'Ida', 'Ingrid', 'Inger', 'Irma', 'Johanna', 'Julia', 'Karin',
  'Kerstin', 'Klara', 'Lena', 'Lilly', 'Linnea', 'Lisa', 'Lova', 'Maja', 'Malin', 'Margareta',
  'Maria', 'Marianne', 'Matilda', 'Moa', 'Nora', 'Olivia', 'Ronja', 'Saga', 'Sara', 'Signe',
  'Siv', 'Sofia', 'Stina', 'Svea', 'Tove', 'Ulla', 'Vera', 'Viola', 'Wilma', 'Yvonne',
] as const;

// biome-ignore format: a word list, ten to a line, reads as a list; one to a line would be 60 lines of it
export const MALE_GIVEN_NAMES = [
  'Adam', 'Albin', 'Alfred', 'Anders', 'Arvid', 'Axel', 'Bengt', 'Björn', 'Bo', 'Carl',
  'Daniel', 'David', 'Elias', 'Emil', 'Erik', 'Filip', 'Folke', 'Fredrik', 'Gustav', 'Göran',
  'Hampus', 'Hans', 'Henrik', 'Hugo', 'Isak', 'Jakob', 'Jan', 'Johan', 'Jonas', 'Karl',
  'Kent', 'Lars', 'Leo', 'Linus', 'Lucas', 'Magnus', 'Mats', 'Melker', 'Mikael', 'Nils',
  'Noah', 'Olle', 'Oskar', 'Per', 'Peter', 'Rasmus', 'Rune', 'Sixten', 'Sten', 'Sture',
  'Sven', 'Theo', 'Tomas', 'Torsten', 'Ture', 'Ulf', 'Valter', 'Viktor', 'Vilgot', 'Åke',
] as const;

/** First parts of compound family names and of street names: landscape words. */
// biome-ignore format: a word list, ten to a line, reads as a list; one to a line would be 60 lines of it
const NATURE_PARTS = [
  'Al', 'Asp', 'Berg', 'Björk', 'Blom', 'Dahl', 'Ek', 'Ekh', 'Fors', 'Gran',
  'Hag', 'Hed', 'Holm', 'Kvarn', 'Lind', 'Lund', 'Löv', 'Mal', 'Mo', 'Norr',
  'Rosen', 'Sand', 'Sjö', 'Sten', 'Strand', 'Sund', 'Söder', 'Tall', 'Vik', 'Ås',
] as const;

const FAMILY_SUFFIXES = ['berg', 'blad', 'bom', 'dahl', 'gren', 'holm', 'kvist', 'lund', 'man', 'mark', 'ros', 'ström', 'stedt', 'vall', 'qvist', 'by', 'hage', 'borg', 'fält', 'löf'] as const;

// biome-ignore format: a word list, ten to a line, reads as a list; one to a line would be 60 lines of it
const PATRONYMIC_STEMS = [
  'Anders', 'Johans', 'Karls', 'Nils', 'Eriks', 'Lars', 'Ols', 'Pers', 'Svens', 'Gustafs',
  'Jons', 'Magnus', 'Mats', 'Pehrs', 'Håkans', 'Jakobs', 'Bengts', 'Ivars', 'Månss', 'Petters',
] as const;

const STREET_SUFFIXES = ['vägen', 'gatan', 'stigen', 'gränd', 'backen', 'allén', 'torget', 'slingan', 'platsen', 'leden'] as const;

export function givenName(random: Random, sex: 'FEMALE' | 'MALE'): string {
  return random.pick(sex === 'FEMALE' ? FEMALE_GIVEN_NAMES : MALE_GIVEN_NAMES);
}

/** About a third end in -son, as in the register; the rest are compound names. */
export function familyName(random: Random): string {
  if (random.chance(0.35)) return `${random.pick(PATRONYMIC_STEMS)}son`;
  return `${random.pick(NATURE_PARTS)}${random.pick(FAMILY_SUFFIXES)}`;
}

export function streetAddress(random: Random): string {
  const street = `${random.pick(NATURE_PARTS)}${random.pick(STREET_SUFFIXES)}`;
  const number = random.int(1, 140);
  const letter = random.chance(0.12) ? random.pick(['A', 'B', 'C']) : '';
  return `${street} ${number}${letter}`;
}
