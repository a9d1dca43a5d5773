import Database from 'better-sqlite3';
import { runOperation } from '../../src/client/index.js';
import { agencyDbPath } from '../../src/population/index.js';
import { HousingAllowanceIncomeControlDocument } from '../__generated__/graphql.js';
import { agencyClient, dataDirOf, denialsOf, kronor, runWhenMain, sum, type Denial, type ExampleOptions } from '../support.js';

/**
 * Försäkringskassan's control function (lag (2008:206) om underrättelseskyldighet vid felaktiga
 * utbetalningar från välfärdssystemen) checks an insured person's income against the housing
 * allowance (bostadsbidrag) paid: taxed income from Skatteverket and student aid from CSN, over the
 * exchange for purpose PAYMENT_CONTROL. The paid allowance is Försäkringskassan's own record: it
 * reads it from its own register, as a disclosure between agencies is not involved.
 */

export interface PaymentControlOptions extends ExampleOptions {
  /** Default: the first person with housing allowance paid in `year` in Försäkringskassan's register. */
  readonly insured?: string;
  /** Default 2024, the synthetic population's last full year. */
  readonly year?: number;
}

export interface PaymentControlResult {
  readonly housingAllowancePaid: number;
  readonly earnedIncome: number | null;
  readonly capitalIncome: number | null;
  readonly studentAidGrant: number;
  /** Income above the limit, so the allowance should have been reduced: a case for a closer look. */
  readonly flagged: boolean;
  /** The same request for purpose INFORMING_THE_INSURED, which taxed income is not declared for. */
  readonly denials: readonly Denial[];
}

/**
 * The yearly income above which a single parent's housing allowance is reduced (97 kap.
 * socialförsäkringsbalken); a worked example, not Försäkringskassan's control rules.
 */
const REDUCTION_LIMIT_ORE = 150_000_00;

export async function run(options: PaymentControlOptions = {}): Promise<PaymentControlResult> {
  const log = options.log ?? console.log;
  const year = options.year ?? 2024;
  const own = housingAllowancePaid(agencyDbPath(dataDirOf(options), 'forsakringskassan'), year, options.insured);
  const claims = { official: 'fk-kontroll-03', purpose: 'PAYMENT_CONTROL' as const, caseId: 'FK-KONTROLL-2026-0007', subjects: [own.insured] };
  const client = agencyClient('forsakringskassan', claims, options);
  const variables = { insured: own.insured, incomeYear: year, from: `${year}-01-01`, to: `${year}-12-31` };
  const send = options.send ?? 'text';
  try {
    const response = await runOperation(client, HousingAllowanceIncomeControlDocument, variables, { send });
    const person = response.data?.person;
    if (!person || response.errors?.length) throw new Error(`control request failed: ${JSON.stringify(denialsOf(response.errors))}`);
    const income = person.taxedIncome?.[0];
    const studentAidGrant = sum((person.studentAid ?? []).map((a) => a.grant));
    const counted = (income?.earnedIncome ?? 0) + Math.max(0, income?.capitalIncome ?? 0) + studentAidGrant;
    const flagged = counted > REDUCTION_LIMIT_ORE;
    log(`Försäkringskassan, control of housing allowance ${year}, case ${claims.caseId}:`);
    log(`  housing allowance paid (own register): ${kronor(own.paid)} in ${own.payments} payment(s)`);
    log(`  taxed earned income (Skatteverket):    ${income ? kronor(income.earnedIncome) : 'none taxed'}`);
    log(`  capital income (Skatteverket):         ${income ? kronor(income.capitalIncome) : 'none taxed'}`);
    log(`  student aid grant (CSN):               ${kronor(studentAidGrant)}`);
    log(`  => ${flagged ? `income above ${kronor(REDUCTION_LIMIT_ORE)}: the allowance should have been reduced; open a control case` : 'income within the limit; no action'}`);

    // The denial: the same request to write to the insured person about the control. Skatteverket
    // does not declare taxed income for INFORMING_THE_INSURED, and the agreement with CSN covers
    // payment control only, so the gateway refuses it before asking anyone.
    const informing = await runOperation(client, HousingAllowanceIncomeControlDocument, variables, { purpose: 'INFORMING_THE_INSURED', send });
    const denials = denialsOf(informing.errors);
    log(`Denied for purpose INFORMING_THE_INSURED (HTTP ${informing.status}, no data): ${denials.map((d) => `${d.field} ${d.code}`).join(', ')}`);
    return {
      housingAllowancePaid: own.paid,
      earnedIncome: income?.earnedIncome ?? null,
      capitalIncome: income?.capitalIncome ?? null,
      studentAidGrant,
      flagged,
      denials,
    };
  } finally {
    await client.close();
  }
}

/** Försäkringskassan's own payment register (here the synthetic store its subgraph also serves). */
function housingAllowancePaid(dbPath: string, year: number, insured: string | undefined): { insured: string; paid: number; payments: number } {
  const db = new Database(dbPath, { readonly: true, fileMustExist: true });
  try {
    const row = db
      .prepare(
        `SELECT personnummer, sum(amount) AS paid, count(*) AS payments FROM benefit_payment
          WHERE benefit = 'HOUSING_ALLOWANCE' AND paid_on BETWEEN ? AND ? AND (? IS NULL OR personnummer = ?)
          GROUP BY personnummer ORDER BY min(id) LIMIT 1`,
      )
      .get(`${year}-01-01`, `${year}-12-31`, insured ?? null, insured ?? null) as { personnummer: string; paid: number; payments: number } | undefined;
    if (!row) throw new Error(`no housing allowance paid in ${year}${insured ? ' to that person' : ''} in Försäkringskassan's register`);
    return { insured: row.personnummer, paid: row.paid, payments: row.payments };
  } finally {
    db.close();
  }
}

runWhenMain(import.meta.url, (options, args) => run({ ...options, ...(typeof args['subject'] === 'string' ? { insured: args['subject'] } : {}) }));
