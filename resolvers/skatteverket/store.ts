import type { CivilStatus, IdentityNumberKind, ProtectedIdentity, Sex } from '../../src/population/model.js';
import { BatchStore, groupByKey } from '../shared/sqliteStore.js';

/** A person as the population register holds them, shaped like the SDL's Person fields. */
export interface RegisteredPerson {
  readonly personnummer: string;
  readonly name: { readonly givenName: string; readonly familyName: string };
  readonly dateOfBirth: string;
  readonly sex: Sex;
  readonly identityNumberKind: IdentityNumberKind;
  readonly protectedIdentity: ProtectedIdentity;
  readonly civilStatus: CivilStatus;
  readonly registeredAddress: {
    readonly careOf: string | null;
    readonly street: string;
    readonly postalCode: string;
    readonly city: string;
    readonly municipalityCode: string;
  };
}

export interface TaxedIncomeYear {
  readonly year: number;
  readonly employmentIncome: number;
  readonly businessIncome: number;
  readonly capitalIncome: number;
  readonly earnedIncome: number;
  readonly finalTax: number;
}

interface PersonRow {
  personnummer: string;
  given_name: string;
  family_name: string;
  date_of_birth: string;
  sex: Sex;
  identity_number_kind: IdentityNumberKind;
  protected_identity: ProtectedIdentity;
  civil_status: CivilStatus;
  care_of: string | null;
  street: string;
  postal_code: string;
  city: string;
  municipality_code: string;
}

interface HouseholdRow {
  subject: string;
  member: string;
}

interface IncomeRow {
  personnummer: string;
  year: number | null;
  employment_income: number;
  business_income: number;
  capital_income: number;
  earned_income: number;
  final_tax: number;
}

/** Skatteverket's population register and taxed income, read in batches keyed by personnummer. */
export class SkatteverketStore {
  readonly #store: BatchStore;
  readonly #persons;
  readonly #households;
  readonly #incomes;

  constructor(dbPath: string) {
    this.#store = new BatchStore(dbPath);
    this.#persons = this.#store.batch<PersonRow>(
      `SELECT p.personnummer, p.given_name, p.family_name, p.date_of_birth, p.sex, p.identity_number_kind,
              p.protected_identity, p.civil_status, h.care_of, h.street, h.postal_code, h.city, h.municipality_code
         FROM person p JOIN household h ON h.household_id = p.household_id
        WHERE p.personnummer IN (SELECT value FROM json_each(?))`,
    );
    // Every registered subject comes back at least with itself, which tells "registered, lives
    // alone" apart from "not in the register".
    this.#households = this.#store.batch<HouseholdRow>(
      `SELECT s.personnummer AS subject, m.personnummer AS member
         FROM person s JOIN person m ON m.household_id = s.household_id
        WHERE s.personnummer IN (SELECT value FROM json_each(?))
        ORDER BY s.personnummer, m.rowid`,
    );
    this.#incomes = this.#store.batch<IncomeRow>(
      `SELECT p.personnummer, t.year, t.employment_income, t.business_income, t.capital_income, t.earned_income, t.final_tax
         FROM person p LEFT JOIN taxed_income t ON t.personnummer = p.personnummer
        WHERE p.personnummer IN (SELECT value FROM json_each(?))
        ORDER BY p.personnummer, t.year DESC`,
    );
  }

  /** Registered persons by number; numbers not in the register are absent from the map. */
  persons(personnummer: readonly string[]): Map<string, RegisteredPerson> {
    const found = new Map<string, RegisteredPerson>();
    for (const row of this.#persons(personnummer)) {
      found.set(row.personnummer, {
        personnummer: row.personnummer,
        name: { givenName: row.given_name, familyName: row.family_name },
        dateOfBirth: row.date_of_birth,
        sex: row.sex,
        identityNumberKind: row.identity_number_kind,
        protectedIdentity: row.protected_identity,
        civilStatus: row.civil_status,
        registeredAddress: {
          careOf: row.care_of,
          street: row.street,
          postalCode: row.postal_code,
          city: row.city,
          municipalityCode: row.municipality_code,
        },
      });
    }
    return found;
  }

  /** The other members of each person's household; absent for numbers not in the register. */
  householdMembers(personnummer: readonly string[]): Map<string, string[]> {
    const members = new Map<string, string[]>();
    for (const row of this.#households(personnummer)) {
      const list = members.get(row.subject) ?? [];
      if (row.member !== row.subject) list.push(row.member);
      members.set(row.subject, list);
    }
    return members;
  }

  /** Taxed income years, newest first; absent for numbers not in the register. */
  taxedIncome(personnummer: readonly string[]): Map<string, TaxedIncomeYear[]> {
    const rows = this.#incomes(personnummer);
    const registered = new Set(rows.map((row) => row.personnummer));
    const grouped = groupByKey([...registered], rows, (row) => row.personnummer);
    const incomes = new Map<string, TaxedIncomeYear[]>();
    for (const [subject, subjectRows] of grouped) {
      incomes.set(
        subject,
        subjectRows.flatMap((row) =>
          row.year === null
            ? []
            : [
                {
                  year: row.year,
                  employmentIncome: row.employment_income,
                  businessIncome: row.business_income,
                  capitalIncome: row.capital_income,
                  earnedIncome: row.earned_income,
                  finalTax: row.final_tax,
                },
              ],
        ),
      );
    }
    return incomes;
  }

  queryCount(): number {
    return this.#store.queryCount();
  }

  close(): void {
    this.#store.close();
  }
}
