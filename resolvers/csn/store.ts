import type { StudyLevel } from '../../src/population/model.js';
import { BatchStore, groupByKey } from '../shared/sqliteStore.js';

export interface StudentAidPeriodModel {
  readonly id: string;
  readonly period: { readonly start: string; readonly end: string };
  readonly studyLevel: StudyLevel;
  readonly studyPacePercent: number;
  readonly institution: string;
  readonly grant: number;
  readonly loan: number;
}

export interface StudentLoanAccountModel {
  readonly balance: number;
  readonly asOf: string;
  readonly annualRepayment: number;
  readonly inArrears: boolean;
}

interface PeriodRow {
  id: number;
  personnummer: string;
  period_start: string;
  period_end: string;
  study_level: StudyLevel;
  study_pace_percent: number;
  institution: string;
  grant_amount: number;
  loan_amount: number;
}

interface AccountRow {
  personnummer: string;
  balance: number;
  as_of: string;
  annual_repayment: number;
  in_arrears: number;
}

/** CSN's student aid periods and loan accounts, read in batches keyed by personnummer. */
export class CsnStore {
  readonly #store: BatchStore;
  readonly #periods;
  readonly #accounts;

  constructor(dbPath: string) {
    this.#store = new BatchStore(dbPath);
    this.#periods = this.#store.batch<PeriodRow>(
      `SELECT id, personnummer, period_start, period_end, study_level, study_pace_percent, institution, grant_amount, loan_amount
         FROM student_aid_period WHERE personnummer IN (SELECT value FROM json_each(?))
        ORDER BY period_start DESC, id DESC`,
    );
    this.#accounts = this.#store.batch<AccountRow>(
      `SELECT personnummer, balance, as_of, annual_repayment, in_arrears
         FROM student_loan_account WHERE personnummer IN (SELECT value FROM json_each(?))`,
    );
  }

  /** Newest first; empty for persons without student aid. */
  studentAid(personnummer: readonly string[]): Map<string, StudentAidPeriodModel[]> {
    return groupByKey(
      personnummer,
      this.#periods(personnummer),
      (row) => row.personnummer,
      (row) => ({
        id: String(row.id),
        period: { start: row.period_start, end: row.period_end },
        studyLevel: row.study_level,
        studyPacePercent: row.study_pace_percent,
        institution: row.institution,
        grant: row.grant_amount,
        loan: row.loan_amount,
      }),
    );
  }

  /** Absent for persons who never borrowed. */
  studentLoans(personnummer: readonly string[]): Map<string, StudentLoanAccountModel> {
    const accounts = new Map<string, StudentLoanAccountModel>();
    for (const row of this.#accounts(personnummer)) {
      accounts.set(row.personnummer, {
        balance: row.balance,
        asOf: row.as_of,
        annualRepayment: row.annual_repayment,
        inArrears: row.in_arrears === 1,
      });
    }
    return accounts;
  }

  queryCount(): number {
    return this.#store.queryCount();
  }

  close(): void {
    this.#store.close();
  }
}
