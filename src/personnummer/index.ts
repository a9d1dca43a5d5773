export {
  parsePersonnummer,
  isValidPersonnummer,
  makePersonnummer,
  luhnCheckDigit,
  InvalidPersonnummerError,
} from './personnummer.js';
export type { ParsedPersonnummer, PersonnummerProblem, IdentityNumberKind } from './personnummer.js';
