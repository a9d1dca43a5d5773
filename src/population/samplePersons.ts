import Database from 'better-sqlite3';
import { makePersonnummer } from '../personnummer/index.js';
import { agencyDbPath } from './storeSchemas.js';

/** Personnummer worth asking about in tests, examples and the README, found the same way every time. */
export interface SamplePersons {
  /** `n` persons spread evenly over the register, none with protected identity. */
  readonly persons: readonly string[];
  /** All members of one household of three or more, adults first. */
  readonly household: readonly string[];
  /** A person with sekretessmarkering or skyddad folkbokföring. */
  readonly protectedIdentity: string;
  readonly samordningsnummer: string;
  /** A parent with both child allowance and parental benefit decisions. */
  readonly withBenefits: string;
  /** A person with a granted sickness benefit decision that has payments. */
  readonly withSicknessBenefit: string;
  readonly withStudentAid: string;
  readonly withStudentLoan: string;
  /** A registered job seeker in a programme, with activity support payments. */
  readonly jobSeeker: string;
  /** A valid personnummer that is not in the register (born before the register's first year). */
  readonly notInRegister: string;
}

export class PopulationTooSmallError extends Error {
  constructor(what: string) {
    super(`The population has no ${what}; generate more persons.`);
    this.name = 'PopulationTooSmallError';
  }
}

/** Reads the samples from the stores in `dir`; protected persons appear only as `protectedIdentity`. */
export function samplePersons(dir: string, n = 10): SamplePersons {
  if (!Number.isSafeInteger(n) || n < 0) throw new TypeError('n must be a non-negative integer');
  const db = new Database(agencyDbPath(dir, 'skatteverket'), { readonly: true, fileMustExist: true });
  try {
    db.prepare('ATTACH DATABASE ? AS fk').run(agencyDbPath(dir, 'forsakringskassan'));
    db.prepare('ATTACH DATABASE ? AS csn').run(agencyDbPath(dir, 'csn'));
    db.prepare('ATTACH DATABASE ? AS af').run(agencyDbPath(dir, 'arbetsformedlingen'));

    const one = (what: string, sql: string): string => {
      const value = db.prepare(sql).pluck().get();
      if (typeof value !== 'string') throw new PopulationTooSmallError(what);
      return value;
    };
    const unprotected = `SELECT personnummer FROM main.person WHERE protected_identity = 'NONE'`;

    const total = db.prepare(`SELECT count(*) FROM (${unprotected})`).pluck().get() as number;
    const step = Math.max(1, Math.floor(total / Math.max(1, n)));
    const persons = db
      .prepare(
        `SELECT personnummer FROM (
           SELECT personnummer, row_number() OVER (ORDER BY rowid) AS position FROM main.person WHERE protected_identity = 'NONE'
         ) WHERE (position - 1) % ? = 0 ORDER BY position LIMIT ?`,
      )
      .pluck()
      .all(step, n) as string[];

    const householdId = db
      .prepare(
        `SELECT household_id FROM main.person GROUP BY household_id
         HAVING count(*) >= 3 AND max(protected_identity) = 'NONE' AND min(protected_identity) = 'NONE'
         ORDER BY household_id LIMIT 1`,
      )
      .pluck()
      .get();
    if (householdId === undefined) throw new PopulationTooSmallError('household of three or more');
    const household = db.prepare('SELECT personnummer FROM main.person WHERE household_id = ? ORDER BY rowid').pluck().all(householdId) as string[];

    return {
      persons,
      household,
      protectedIdentity: one('person with protected identity', `SELECT personnummer FROM main.person WHERE protected_identity <> 'NONE' ORDER BY rowid LIMIT 1`),
      samordningsnummer: one('samordningsnummer', `SELECT personnummer FROM main.person WHERE identity_number_kind = 'SAMORDNINGSNUMMER' AND protected_identity = 'NONE' ORDER BY rowid LIMIT 1`),
      withBenefits: one(
        'parent with child allowance and parental benefit',
        `${unprotected}
           AND personnummer IN (SELECT personnummer FROM fk.benefit_decision WHERE benefit = 'CHILD_ALLOWANCE')
           AND personnummer IN (SELECT personnummer FROM fk.benefit_decision WHERE benefit = 'PARENTAL_BENEFIT' AND outcome = 'GRANTED')
         ORDER BY rowid LIMIT 1`,
      ),
      withSicknessBenefit: one('person with sickness benefit payments', `${unprotected} AND personnummer IN (SELECT personnummer FROM fk.sickness_payment) ORDER BY rowid LIMIT 1`),
      withStudentAid: one('person with student aid', `${unprotected} AND personnummer IN (SELECT personnummer FROM csn.student_aid_period WHERE loan_amount > 0) ORDER BY rowid LIMIT 1`),
      withStudentLoan: one(
        'person with a student loan',
        `${unprotected} AND personnummer IN (SELECT personnummer FROM csn.student_loan_account WHERE balance > 0 AND annual_repayment > 0) ORDER BY rowid LIMIT 1`,
      ),
      jobSeeker: one(
        'job seeker with activity support',
        `${unprotected}
           AND personnummer IN (SELECT personnummer FROM af.job_seeker_registration WHERE status = 'IN_PROGRAMME')
           AND personnummer IN (SELECT personnummer FROM af.activity_support_payment)
         ORDER BY rowid LIMIT 1`,
      ),
      // The generated register starts with births in 1930.
      notInRegister: makePersonnummer('1925-06-15', 123),
    };
  } finally {
    db.close();
  }
}
