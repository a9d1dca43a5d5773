import { mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import Database from 'better-sqlite3';
import { generatePopulation } from './generatePopulation.js';
import { GENERATOR_VERSION, REFERENCE_DATE, type GeneratedHousehold } from './model.js';
import { STORE_AGENCIES, STORE_SCHEMAS, agencyDbPath, type PopulationMeta, type StoreAgency } from './storeSchemas.js';

export interface WriteStoresOptions {
  readonly dir: string;
  readonly persons: number;
  readonly seed: number;
  /** Called now and then with the number of persons written so far. */
  readonly onProgress?: (personsWritten: number) => void;
}

export interface StoreFileReport {
  readonly agency: StoreAgency;
  readonly path: string;
  readonly bytes: number;
  /** Rows per table. */
  readonly rows: Readonly<Record<string, number>>;
}

export interface WriteStoresReport {
  readonly persons: number;
  readonly households: number;
  readonly seed: number;
  readonly durationMs: number;
  readonly files: readonly StoreFileReport[];
}

/** Households per transaction: large enough that commits cost nothing, small enough to stay a few MB. */
const HOUSEHOLDS_PER_TRANSACTION = 5_000;

/**
 * Generates the population and writes one SQLite file per agency into `dir`, replacing any files
 * there. Each file is built under a temporary name and renamed only when complete, so an
 * interrupted run never leaves a store that looks valid.
 */
export function writeStores(options: WriteStoresOptions): WriteStoresReport {
  const started = performance.now();
  mkdirSync(options.dir, { recursive: true });
  const writers = STORE_AGENCIES.map((agency) => new StoreWriter(agency, `${agencyDbPath(options.dir, agency)}.partial`));
  try {
    let households = 0;
    let persons = 0;
    let batch: GeneratedHousehold[] = [];
    const flush = (): void => {
      for (const writer of writers) writer.write(batch);
      batch = [];
      options.onProgress?.(persons);
    };
    for (const household of generatePopulation(options)) {
      batch.push(household);
      households += 1;
      persons += household.persons.length;
      if (batch.length >= HOUSEHOLDS_PER_TRANSACTION) flush();
    }
    flush();

    const meta: PopulationMeta = { generatorVersion: GENERATOR_VERSION, seed: options.seed, persons, referenceDate: REFERENCE_DATE };
    const files = writers.map((writer) => writer.finish(meta, agencyDbPath(options.dir, writer.agency)));
    return { persons, households, seed: options.seed, durationMs: performance.now() - started, files };
  } catch (error) {
    for (const writer of writers) writer.abandon();
    throw error;
  }
}

export function removeStoreFiles(file: string): void {
  for (const suffix of ['', '-wal', '-shm', '-journal']) rmSync(`${file}${suffix}`, { force: true });
}

type Insert = (household: GeneratedHousehold) => void;

class StoreWriter {
  readonly #db: Database.Database;
  readonly #insert: Insert;
  readonly #write: (batch: readonly GeneratedHousehold[]) => void;

  constructor(
    readonly agency: StoreAgency,
    readonly partialPath: string,
  ) {
    removeStoreFiles(partialPath);
    this.#db = new Database(partialPath);
    // The file is renamed into place only when complete, so the load needs no rollback journal
    // and no fsync; WAL is switched on at the end for the readers.
    this.#db.pragma('journal_mode = OFF');
    this.#db.pragma('synchronous = OFF');
    this.#db.pragma('cache_size = -65536');
    this.#db.exec(STORE_SCHEMAS[agency].tables);
    this.#insert = inserterFor(agency, this.#db);
    this.#write = this.#db.transaction((batch: readonly GeneratedHousehold[]) => {
      for (const household of batch) this.#insert(household);
    });
  }

  write(batch: readonly GeneratedHousehold[]): void {
    this.#write(batch);
  }

  finish(meta: PopulationMeta, finalPath: string): StoreFileReport {
    const db = this.#db;
    db.exec(STORE_SCHEMAS[this.agency].indexes);
    const putMeta = db.prepare('INSERT INTO meta (key, value) VALUES (?, ?)');
    db.transaction(() => {
      putMeta.run('agency', this.agency);
      putMeta.run('generator_version', meta.generatorVersion);
      putMeta.run('seed', String(meta.seed));
      putMeta.run('persons', String(meta.persons));
      putMeta.run('reference_date', meta.referenceDate);
    })();
    // Statistics let the planner pick the personnummer indexes for the json_each batches.
    db.exec('ANALYZE');
    const rows: Record<string, number> = {};
    const tables = db.prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> 'meta' ORDER BY name").pluck().all() as string[];
    for (const table of tables) rows[table] = db.prepare(`SELECT count(*) FROM "${table}"`).pluck().get() as number;
    db.pragma('journal_mode = WAL');
    db.close();
    removeStoreFiles(finalPath);
    renameSync(this.partialPath, finalPath);
    return { agency: this.agency, path: finalPath, bytes: statSync(finalPath).size, rows };
  }

  abandon(): void {
    if (this.#db.open) this.#db.close();
    removeStoreFiles(this.partialPath);
  }
}

function inserterFor(agency: StoreAgency, db: Database.Database): Insert {
  switch (agency) {
    case 'skatteverket': {
      const household = db.prepare(
        'INSERT INTO household (household_id, care_of, street, postal_code, city, municipality_code) VALUES (?, ?, ?, ?, ?, ?)',
      );
      const person = db.prepare(
        `INSERT INTO person (personnummer, given_name, family_name, date_of_birth, sex, identity_number_kind, protected_identity, civil_status, household_id)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      );
      const income = db.prepare(
        `INSERT INTO taxed_income (personnummer, year, employment_income, business_income, capital_income, earned_income, final_tax)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
      );
      return (g) => {
        const h = g.household;
        household.run(h.id, h.careOf, h.street, h.postalCode, h.city, h.municipalityCode);
        for (const p of g.persons) {
          person.run(p.personnummer, p.givenName, p.familyName, p.dateOfBirth, p.sex, p.identityNumberKind, p.protectedIdentity, p.civilStatus, p.householdId);
        }
        for (const t of g.taxedIncome) {
          income.run(t.personnummer, t.year, t.employmentIncome, t.businessIncome, t.capitalIncome, t.earnedIncome, t.finalTax);
        }
      };
    }
    case 'forsakringskassan': {
      const decision = db.prepare(
        `INSERT INTO benefit_decision (id, personnummer, benefit, outcome, decided_on, period_start, period_end, amount, unit)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      );
      const payment = db.prepare(
        `INSERT INTO benefit_payment (id, decision_id, personnummer, benefit, paid_on, period_start, period_end, amount)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      );
      const sickness = db.prepare(
        `INSERT INTO sickness_decision (id, personnummer, outcome, decided_on, period_start, period_end, extent_percent, daily_amount)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      );
      const sicknessPayment = db.prepare(
        `INSERT INTO sickness_payment (id, decision_id, personnummer, paid_on, period_start, period_end, amount)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
      );
      return (g) => {
        for (const d of g.benefitDecisions) decision.run(d.id, d.personnummer, d.benefit, d.outcome, d.decidedOn, d.periodStart, d.periodEnd, d.amount, d.unit);
        for (const p of g.benefitPayments) payment.run(p.id, p.decisionId, p.personnummer, p.benefit, p.paidOn, p.periodStart, p.periodEnd, p.amount);
        for (const d of g.sicknessDecisions) {
          sickness.run(d.id, d.personnummer, d.outcome, d.decidedOn, d.periodStart, d.periodEnd, d.extentPercent, d.dailyAmount);
        }
        for (const p of g.sicknessPayments) sicknessPayment.run(p.id, p.decisionId, p.personnummer, p.paidOn, p.periodStart, p.periodEnd, p.amount);
      };
    }
    case 'csn': {
      const period = db.prepare(
        `INSERT INTO student_aid_period (id, personnummer, period_start, period_end, study_level, study_pace_percent, institution, grant_amount, loan_amount)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      );
      const account = db.prepare(
        'INSERT INTO student_loan_account (personnummer, balance, as_of, annual_repayment, in_arrears) VALUES (?, ?, ?, ?, ?)',
      );
      return (g) => {
        for (const p of g.studentAidPeriods) {
          period.run(p.id, p.personnummer, p.periodStart, p.periodEnd, p.studyLevel, p.studyPacePercent, p.institution, p.grant, p.loan);
        }
        for (const a of g.studentLoanAccounts) account.run(a.personnummer, a.balance, a.asOf, a.annualRepayment, a.inArrears ? 1 : 0);
      };
    }
    case 'arbetsformedlingen': {
      const registration = db.prepare(
        `INSERT INTO job_seeker_registration (id, personnummer, status, registered_on, deregistered_on, office_code, programme)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
      );
      const payment = db.prepare(
        `INSERT INTO activity_support_payment (id, personnummer, kind, period_start, period_end, paid_on, days, daily_amount, amount)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      );
      return (g) => {
        for (const r of g.jobSeekerRegistrations) {
          registration.run(r.id, r.personnummer, r.status, r.registeredOn, r.deregisteredOn, r.officeCode, r.programme);
        }
        for (const p of g.activitySupportPayments) {
          payment.run(p.id, p.personnummer, p.kind, p.periodStart, p.periodEnd, p.paidOn, p.days, p.dailyAmount, p.amount);
        }
      };
    }
  }
}
