import type { AmountUnit, BenefitType, DecisionOutcome } from '../../src/population/model.js';
import { BatchStore, groupByKey } from '../shared/sqliteStore.js';

export interface DatePeriod {
  readonly start: string;
  readonly end: string | null;
}

/** A benefit decision without its payments, which load by decision id one level down. */
export interface BenefitDecisionModel {
  readonly id: string;
  readonly benefit: BenefitType;
  readonly outcome: DecisionOutcome;
  readonly decidedOn: string;
  readonly period: DatePeriod;
  readonly amount: number;
  readonly unit: AmountUnit;
}

export interface BenefitPaymentModel {
  readonly id: string;
  readonly benefit: BenefitType;
  readonly paidOn: string;
  readonly period: { readonly start: string; readonly end: string };
  readonly amount: number;
}

export interface SicknessDecisionModel {
  readonly id: string;
  readonly outcome: DecisionOutcome;
  readonly decidedOn: string;
  readonly period: DatePeriod;
  readonly extentPercent: number;
  readonly dailyAmount: number;
}

export interface SicknessPaymentModel {
  readonly id: string;
  readonly paidOn: string;
  readonly period: { readonly start: string; readonly end: string };
  readonly amount: number;
}

interface DecisionRow {
  id: number;
  personnummer: string;
  benefit: BenefitType;
  outcome: DecisionOutcome;
  decided_on: string;
  period_start: string;
  period_end: string | null;
  amount: number;
  unit: AmountUnit;
}

interface PaymentRow {
  id: number;
  decision_id: number;
  personnummer: string;
  benefit: BenefitType;
  paid_on: string;
  period_start: string;
  period_end: string;
  amount: number;
}

interface SicknessDecisionRow {
  id: number;
  personnummer: string;
  outcome: DecisionOutcome;
  decided_on: string;
  period_start: string;
  period_end: string | null;
  extent_percent: number;
  daily_amount: number;
}

interface SicknessPaymentRow {
  id: number;
  decision_id: number;
  paid_on: string;
  period_start: string;
  period_end: string;
  amount: number;
}

const PAYMENT_COLUMNS = 'id, decision_id, personnummer, benefit, paid_on, period_start, period_end, amount';

/**
 * Försäkringskassan's decisions and payments, read in batches: by personnummer for a person's
 * decisions and payments, by decision id for the payments under decisions. Lists are newest first.
 */
export class ForsakringskassanStore {
  readonly #store: BatchStore;
  readonly #decisions;
  readonly #paymentsByPerson;
  readonly #paymentsByDecision;
  readonly #sicknessDecisions;
  readonly #sicknessPayments;

  constructor(dbPath: string) {
    this.#store = new BatchStore(dbPath);
    this.#decisions = this.#store.batch<DecisionRow>(
      `SELECT id, personnummer, benefit, outcome, decided_on, period_start, period_end, amount, unit
         FROM benefit_decision WHERE personnummer IN (SELECT value FROM json_each(?))
        ORDER BY decided_on DESC, id DESC`,
    );
    this.#paymentsByPerson = this.#store.batch<PaymentRow>(
      `SELECT ${PAYMENT_COLUMNS} FROM benefit_payment WHERE personnummer IN (SELECT value FROM json_each(?))
        ORDER BY paid_on DESC, id DESC`,
    );
    this.#paymentsByDecision = this.#store.batch<PaymentRow>(
      `SELECT ${PAYMENT_COLUMNS} FROM benefit_payment WHERE decision_id IN (SELECT value FROM json_each(?))
        ORDER BY paid_on DESC, id DESC`,
    );
    this.#sicknessDecisions = this.#store.batch<SicknessDecisionRow>(
      `SELECT id, personnummer, outcome, decided_on, period_start, period_end, extent_percent, daily_amount
         FROM sickness_decision WHERE personnummer IN (SELECT value FROM json_each(?))
        ORDER BY period_start DESC, id DESC`,
    );
    this.#sicknessPayments = this.#store.batch<SicknessPaymentRow>(
      `SELECT id, decision_id, paid_on, period_start, period_end, amount
         FROM sickness_payment WHERE decision_id IN (SELECT value FROM json_each(?))
        ORDER BY paid_on DESC, id DESC`,
    );
  }

  benefitDecisions(personnummer: readonly string[]): Map<string, BenefitDecisionModel[]> {
    return groupByKey(
      personnummer,
      this.#decisions(personnummer),
      (row) => row.personnummer,
      (row) => ({
        id: String(row.id),
        benefit: row.benefit,
        outcome: row.outcome,
        decidedOn: row.decided_on,
        period: { start: row.period_start, end: row.period_end },
        amount: row.amount,
        unit: row.unit,
      }),
    );
  }

  benefitPaymentsByPerson(personnummer: readonly string[]): Map<string, BenefitPaymentModel[]> {
    return groupByKey(personnummer, this.#paymentsByPerson(personnummer), (row) => row.personnummer, toBenefitPayment);
  }

  benefitPaymentsByDecision(decisionIds: readonly number[]): Map<number, BenefitPaymentModel[]> {
    return groupByKey(decisionIds, this.#paymentsByDecision(decisionIds), (row) => row.decision_id, toBenefitPayment);
  }

  sicknessDecisions(personnummer: readonly string[]): Map<string, SicknessDecisionModel[]> {
    return groupByKey(
      personnummer,
      this.#sicknessDecisions(personnummer),
      (row) => row.personnummer,
      (row) => ({
        id: String(row.id),
        outcome: row.outcome,
        decidedOn: row.decided_on,
        period: { start: row.period_start, end: row.period_end },
        extentPercent: row.extent_percent,
        dailyAmount: row.daily_amount,
      }),
    );
  }

  sicknessPaymentsByDecision(decisionIds: readonly number[]): Map<number, SicknessPaymentModel[]> {
    return groupByKey(
      decisionIds,
      this.#sicknessPayments(decisionIds),
      (row) => row.decision_id,
      (row) => ({
        id: String(row.id),
        paidOn: row.paid_on,
        period: { start: row.period_start, end: row.period_end },
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

function toBenefitPayment(row: PaymentRow): BenefitPaymentModel {
  return {
    id: String(row.id),
    benefit: row.benefit,
    paidOn: row.paid_on,
    period: { start: row.period_start, end: row.period_end },
    amount: row.amount,
  };
}
