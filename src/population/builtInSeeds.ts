import type Database from 'better-sqlite3';
import type { AgencySeed } from './agencySeed.js';
import type { GeneratedHousehold } from './model.js';
import { STORE_SCHEMAS, type BuiltInStoreAgency } from './storeSchemas.js';

/**
 * The seed of an agency whose records generatePopulation already draws (GeneratedHousehold): its
 * schema from STORE_SCHEMAS and an inserter of those records. resolvers/<id>/seed.ts of the four
 * built-in agencies is this; an agency added later writes its own AgencySeed instead.
 */
export function builtInSeed(agency: BuiltInStoreAgency): AgencySeed {
  return { ...STORE_SCHEMAS[agency], inserter: (db) => inserterFor(agency, db) };
}

type Insert = (household: GeneratedHousehold) => void;

function inserterFor(agency: BuiltInStoreAgency, db: Database.Database): Insert {
  switch (agency) {
    case 'skatteverket': {
      const household = db.prepare('INSERT INTO household (household_id, care_of, street, postal_code, city, municipality_code) VALUES (?, ?, ?, ?, ?, ?)');
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
      const account = db.prepare('INSERT INTO student_loan_account (personnummer, balance, as_of, annual_repayment, in_arrears) VALUES (?, ?, ?, ?, ?)');
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
