import { REFERENCE_DATE } from '../../src/population/model.js';
import { BatchStore, groupByKey } from '../shared/sqliteStore.js';

export type DebtKind = 'PUBLIC' | 'PRIVATE';
export type DistraintKind = 'WAGE' | 'BENEFIT';
export type DebtRestructuringStatus = 'APPLIED' | 'GRANTED' | 'REJECTED' | 'COMPLETED';

export interface EnforcementDebtModel {
  readonly id: string;
  readonly kind: DebtKind;
  readonly amount: number;
  readonly registeredOn: string;
}

export interface EnforcementDebtBalanceModel {
  readonly total: number;
  readonly publicDebts: number;
  readonly privateDebts: number;
  readonly asOf: string;
  readonly debts: EnforcementDebtModel[];
}

export interface DistraintModel {
  readonly id: string;
  readonly kind: DistraintKind;
  readonly decidedOn: string;
  readonly period: { readonly start: string; readonly end: string | null };
  readonly monthlyAmount: number;
}

export interface DebtRestructuringModel {
  readonly status: DebtRestructuringStatus;
  readonly appliedOn: string;
  readonly decidedOn: string | null;
  readonly paymentPlan: { readonly start: string; readonly end: string | null } | null;
  readonly monthlyPayment: number | null;
}

interface DebtRow {
  id: number;
  personnummer: string;
  kind: DebtKind;
  amount: number;
  registered_on: string;
}

interface DistraintRow {
  id: number;
  personnummer: string;
  kind: DistraintKind;
  decided_on: string;
  period_start: string;
  period_end: string | null;
  monthly_amount: number;
}

interface RestructuringRow {
  personnummer: string;
  status: DebtRestructuringStatus;
  applied_on: string;
  decided_on: string | null;
  plan_start: string | null;
  plan_end: string | null;
  monthly_payment: number | null;
}

/** Kronofogden's debt register (resolvers/kronofogden/seed.ts writes it), read in batches keyed by personnummer. */
export class KronofogdenStore {
  readonly #store: BatchStore;
  readonly #debts;
  readonly #distraints;
  readonly #restructurings;

  constructor(dbPath: string) {
    this.#store = new BatchStore(dbPath);
    this.#debts = this.#store.batch<DebtRow>(
      `SELECT id, personnummer, kind, amount, registered_on FROM enforcement_debt
        WHERE personnummer IN (SELECT value FROM json_each(?)) ORDER BY amount DESC, id`,
    );
    this.#distraints = this.#store.batch<DistraintRow>(
      `SELECT id, personnummer, kind, decided_on, period_start, period_end, monthly_amount FROM distraint
        WHERE personnummer IN (SELECT value FROM json_each(?)) ORDER BY decided_on DESC, id DESC`,
    );
    // The latest application first.
    this.#restructurings = this.#store.batch<RestructuringRow>(
      `SELECT personnummer, status, applied_on, decided_on, plan_start, plan_end, monthly_payment FROM debt_restructuring
        WHERE personnummer IN (SELECT value FROM json_each(?)) ORDER BY applied_on DESC, id DESC`,
    );
  }

  /** Absent for persons without debts in enforcement. The balance is the register's at its snapshot, the population's reference date. */
  balances(personnummer: readonly string[]): Map<string, EnforcementDebtBalanceModel> {
    const debts = groupByKey(
      personnummer,
      this.#debts(personnummer),
      (row) => row.personnummer,
      (row): EnforcementDebtModel => ({
        id: String(row.id),
        kind: row.kind,
        amount: row.amount,
        registeredOn: row.registered_on,
      }),
    );
    const balances = new Map<string, EnforcementDebtBalanceModel>();
    for (const [key, list] of debts) {
      if (list.length === 0) continue;
      const sum = (kind: DebtKind) => list.filter((d) => d.kind === kind).reduce((total, d) => total + d.amount, 0);
      balances.set(key, { total: sum('PUBLIC') + sum('PRIVATE'), publicDebts: sum('PUBLIC'), privateDebts: sum('PRIVATE'), asOf: REFERENCE_DATE, debts: list });
    }
    return balances;
  }

  /** Newest first; empty for persons without distraint. */
  distraints(personnummer: readonly string[]): Map<string, DistraintModel[]> {
    return groupByKey(
      personnummer,
      this.#distraints(personnummer),
      (row) => row.personnummer,
      (row) => ({
        id: String(row.id),
        kind: row.kind,
        decidedOn: row.decided_on,
        period: { start: row.period_start, end: row.period_end },
        monthlyAmount: row.monthly_amount,
      }),
    );
  }

  /** The latest application; absent for persons who never applied. */
  latestRestructurings(personnummer: readonly string[]): Map<string, DebtRestructuringModel> {
    const latest = new Map<string, DebtRestructuringModel>();
    for (const row of this.#restructurings(personnummer)) {
      if (latest.has(row.personnummer)) continue;
      latest.set(row.personnummer, {
        status: row.status,
        appliedOn: row.applied_on,
        decidedOn: row.decided_on,
        paymentPlan: row.plan_start === null ? null : { start: row.plan_start, end: row.plan_end },
        monthlyPayment: row.monthly_payment,
      });
    }
    return latest;
  }

  queryCount(): number {
    return this.#store.queryCount();
  }

  close(): void {
    this.#store.close();
  }
}
