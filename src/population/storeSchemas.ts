import path from 'node:path';
import { REFERENCE_AGENCY_IDS, type ReferenceAgencyId } from '../agencies/referenceAgencies.js';

/** Every data-owning agency has a store: one SQLite file per agency in the data directory. */
export const STORE_AGENCIES: readonly ReferenceAgencyId[] = REFERENCE_AGENCY_IDS;
export type StoreAgency = ReferenceAgencyId;

export function agencyDbPath(dir: string, agency: StoreAgency): string {
  return path.join(dir, `${agency}.db`);
}

/** Written into every store by writeStores, so a start-up can tell whether the data matches. */
export const META_TABLE = `CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;`;

export interface StoreSchema {
  readonly tables: string;
  readonly indexes: string;
}

/**
 * The SQLite schema of the built-in agencies' registers. Tables are created before loading;
 * indexes after it, because building an index once over sorted keys is far faster than
 * maintaining it through a million random inserts. The agency stores in resolvers/ read these
 * tables; agencies added later keep theirs in resolvers/<id>/seed.ts.
 */
export const STORE_SCHEMAS = {
  skatteverket: {
    tables: `
      CREATE TABLE household (
        household_id INTEGER PRIMARY KEY,
        care_of TEXT,
        street TEXT NOT NULL,
        postal_code TEXT NOT NULL,
        city TEXT NOT NULL,
        municipality_code TEXT NOT NULL
      );
      CREATE TABLE person (
        personnummer TEXT NOT NULL,
        given_name TEXT NOT NULL,
        family_name TEXT NOT NULL,
        date_of_birth TEXT NOT NULL,
        sex TEXT NOT NULL,
        identity_number_kind TEXT NOT NULL,
        protected_identity TEXT NOT NULL,
        civil_status TEXT NOT NULL,
        household_id INTEGER NOT NULL REFERENCES household (household_id)
      );
      CREATE TABLE taxed_income (
        personnummer TEXT NOT NULL,
        year INTEGER NOT NULL,
        employment_income INTEGER NOT NULL,
        business_income INTEGER NOT NULL,
        capital_income INTEGER NOT NULL,
        earned_income INTEGER NOT NULL,
        final_tax INTEGER NOT NULL
      );`,
    indexes: `
      CREATE UNIQUE INDEX person_personnummer ON person (personnummer);
      CREATE INDEX person_household ON person (household_id);
      CREATE UNIQUE INDEX taxed_income_person_year ON taxed_income (personnummer, year);`,
  },
  forsakringskassan: {
    tables: `
      CREATE TABLE benefit_decision (
        id INTEGER PRIMARY KEY,
        personnummer TEXT NOT NULL,
        benefit TEXT NOT NULL,
        outcome TEXT NOT NULL,
        decided_on TEXT NOT NULL,
        period_start TEXT NOT NULL,
        period_end TEXT,
        amount INTEGER NOT NULL,
        unit TEXT NOT NULL
      );
      CREATE TABLE benefit_payment (
        id INTEGER PRIMARY KEY,
        decision_id INTEGER NOT NULL REFERENCES benefit_decision (id),
        personnummer TEXT NOT NULL,
        benefit TEXT NOT NULL,
        paid_on TEXT NOT NULL,
        period_start TEXT NOT NULL,
        period_end TEXT NOT NULL,
        amount INTEGER NOT NULL
      );
      CREATE TABLE sickness_decision (
        id INTEGER PRIMARY KEY,
        personnummer TEXT NOT NULL,
        outcome TEXT NOT NULL,
        decided_on TEXT NOT NULL,
        period_start TEXT NOT NULL,
        period_end TEXT,
        extent_percent INTEGER NOT NULL,
        daily_amount INTEGER NOT NULL
      );
      CREATE TABLE sickness_payment (
        id INTEGER PRIMARY KEY,
        decision_id INTEGER NOT NULL REFERENCES sickness_decision (id),
        personnummer TEXT NOT NULL,
        paid_on TEXT NOT NULL,
        period_start TEXT NOT NULL,
        period_end TEXT NOT NULL,
        amount INTEGER NOT NULL
      );`,
    indexes: `
      CREATE INDEX benefit_decision_person ON benefit_decision (personnummer);
      CREATE INDEX benefit_payment_person ON benefit_payment (personnummer, paid_on);
      CREATE INDEX benefit_payment_decision ON benefit_payment (decision_id);
      CREATE INDEX sickness_decision_person ON sickness_decision (personnummer);
      CREATE INDEX sickness_payment_person ON sickness_payment (personnummer);
      CREATE INDEX sickness_payment_decision ON sickness_payment (decision_id);`,
  },
  csn: {
    tables: `
      CREATE TABLE student_aid_period (
        id INTEGER PRIMARY KEY,
        personnummer TEXT NOT NULL,
        period_start TEXT NOT NULL,
        period_end TEXT NOT NULL,
        study_level TEXT NOT NULL,
        study_pace_percent INTEGER NOT NULL,
        institution TEXT NOT NULL,
        grant_amount INTEGER NOT NULL,
        loan_amount INTEGER NOT NULL
      );
      CREATE TABLE student_loan_account (
        personnummer TEXT NOT NULL,
        balance INTEGER NOT NULL,
        as_of TEXT NOT NULL,
        annual_repayment INTEGER NOT NULL,
        in_arrears INTEGER NOT NULL
      );`,
    indexes: `
      CREATE INDEX student_aid_period_person ON student_aid_period (personnummer, period_start);
      CREATE UNIQUE INDEX student_loan_account_person ON student_loan_account (personnummer);`,
  },
  arbetsformedlingen: {
    tables: `
      CREATE TABLE job_seeker_registration (
        id INTEGER PRIMARY KEY,
        personnummer TEXT NOT NULL,
        status TEXT NOT NULL,
        registered_on TEXT NOT NULL,
        deregistered_on TEXT,
        office_code TEXT NOT NULL,
        programme TEXT
      );
      CREATE TABLE activity_support_payment (
        id INTEGER PRIMARY KEY,
        personnummer TEXT NOT NULL,
        kind TEXT NOT NULL,
        period_start TEXT NOT NULL,
        period_end TEXT NOT NULL,
        paid_on TEXT NOT NULL,
        days INTEGER NOT NULL,
        daily_amount INTEGER NOT NULL,
        amount INTEGER NOT NULL
      );`,
    indexes: `
      CREATE INDEX job_seeker_registration_person ON job_seeker_registration (personnummer, registered_on);
      CREATE INDEX activity_support_payment_person ON activity_support_payment (personnummer, paid_on);`,
  },
} as const satisfies Partial<Record<ReferenceAgencyId, StoreSchema>>;

/** The agencies whose records generatePopulation draws from the shared random stream (GeneratedHousehold). */
export type BuiltInStoreAgency = keyof typeof STORE_SCHEMAS;

/** What the meta table of every store records, so a start-up can tell whether the data matches. */
export interface PopulationMeta {
  readonly generatorVersion: string;
  readonly seed: number;
  readonly persons: number;
  readonly referenceDate: string;
}
