import type { ActivitySupportKind, JobSeekerStatus, LabourMarketProgramme } from '../../src/population/model.js';
import { BatchStore, groupByKey } from '../shared/sqliteStore.js';

export interface JobSeekerRegistrationModel {
  readonly status: JobSeekerStatus;
  readonly registeredOn: string;
  readonly deregisteredOn: string | null;
  readonly officeCode: string;
  readonly programme: LabourMarketProgramme | null;
}

export interface ActivitySupportPaymentModel {
  readonly id: string;
  readonly kind: ActivitySupportKind;
  readonly period: { readonly start: string; readonly end: string };
  readonly paidOn: string;
  readonly days: number;
  readonly dailyAmount: number;
  readonly amount: number;
}

interface RegistrationRow {
  personnummer: string;
  status: JobSeekerStatus;
  registered_on: string;
  deregistered_on: string | null;
  office_code: string;
  programme: LabourMarketProgramme | null;
}

interface PaymentRow {
  id: number;
  personnummer: string;
  kind: ActivitySupportKind;
  period_start: string;
  period_end: string;
  paid_on: string;
  days: number;
  daily_amount: number;
  amount: number;
}

/** Arbetsförmedlingen's job-seeker registrations and activity support, read in batches keyed by personnummer. */
export class ArbetsformedlingenStore {
  readonly #store: BatchStore;
  readonly #registrations;
  readonly #payments;

  constructor(dbPath: string) {
    this.#store = new BatchStore(dbPath);
    // An open registration sorts first, then the most recent one.
    this.#registrations = this.#store.batch<RegistrationRow>(
      `SELECT personnummer, status, registered_on, deregistered_on, office_code, programme
         FROM job_seeker_registration WHERE personnummer IN (SELECT value FROM json_each(?))
        ORDER BY deregistered_on IS NOT NULL, registered_on DESC, id DESC`,
    );
    this.#payments = this.#store.batch<PaymentRow>(
      `SELECT id, personnummer, kind, period_start, period_end, paid_on, days, daily_amount, amount
         FROM activity_support_payment WHERE personnummer IN (SELECT value FROM json_each(?))
        ORDER BY paid_on DESC, id DESC`,
    );
  }

  /** The current registration, else the latest; absent for persons never registered. */
  currentRegistrations(personnummer: readonly string[]): Map<string, JobSeekerRegistrationModel> {
    const current = new Map<string, JobSeekerRegistrationModel>();
    for (const row of this.#registrations(personnummer)) {
      if (current.has(row.personnummer)) continue;
      current.set(row.personnummer, {
        status: row.status,
        registeredOn: row.registered_on,
        deregisteredOn: row.deregistered_on,
        officeCode: row.office_code,
        programme: row.programme,
      });
    }
    return current;
  }

  /** Newest first; empty for persons without activity support. */
  activitySupport(personnummer: readonly string[]): Map<string, ActivitySupportPaymentModel[]> {
    return groupByKey(
      personnummer,
      this.#payments(personnummer),
      (row) => row.personnummer,
      (row) => ({
        id: String(row.id),
        kind: row.kind,
        period: { start: row.period_start, end: row.period_end },
        paidOn: row.paid_on,
        days: row.days,
        dailyAmount: row.daily_amount,
        amount: row.amount,
      }),
    );
  }

  queryCount(): number {
    return this.#store.queryCount();
  }

  close(): void {
    this.#store.close();
  }
}
