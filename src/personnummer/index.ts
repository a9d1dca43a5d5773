export {
  parsePersonnummer,
  isValidPersonnummer,
  containsPersonnummer,
  makePersonnummer,
  luhnCheckDigit,
  InvalidPersonnummerError,
} from './personnummer.js';
export type { ParsedPersonnummer, PersonnummerProblem, IdentityNumberKind } from './personnummer.js';
