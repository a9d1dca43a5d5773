import { runOperation } from '../../src/client/index.js';
import { samplePersons } from '../../src/population/index.js';
import { EkonomisktBistandHouseholdDocument, EkonomisktBistandIncomesDocument, type EkonomisktBistandIncomesQuery } from '../__generated__/graphql.js';
import { agencyClient, dataDirOf, denialsOf, kronor, runWhenMain, sum, type Denial, type ExampleOptions } from '../support.js';

/**
 * Malmö stad's social services deciding an application for ekonomiskt bistånd (4 kap. 1 §
 * socialtjänstlagen): the applicant's and the household's income, benefits, student aid and
 * Kronofogden's wage distraint (utmätning), in one request to the exchange instead of one per
 * agency (what SSBTEK does today).
 *
 * Two requests: first who is in the household (their personnummer only, the key), because every
 * person whose data the case needs must be a subject of the case in the request token; a member
 * left out has their personal fields withheld with SUBJECT_NOT_IN_CASE.
 */

export interface EkonomisktBistandOptions extends ExampleOptions {
  /** Default: a household of three or more from the development population. */
  readonly applicant?: string;
  /** Default 2024, the synthetic population's last full year. */
  readonly year?: number;
}

export interface MemberIncome {
  readonly role: 'applicant' | 'household member';
  readonly givenName: string | null;
  readonly earnedIncome: number | null;
  readonly benefitsPaid: number;
  readonly studentAid: number;
  readonly activitySupport: number;
  /** Withheld each month by distraint still running at the end of the period: income the household does not get. */
  readonly distrainedPerMonth: number;
}

export interface EkonomisktBistandResult {
  readonly members: readonly MemberIncome[];
  /** The same request under PAYMENT_CONTROL: Malmö's agreements with CSN, Arbetsförmedlingen and Kronofogden cover case handling only. */
  readonly denials: readonly Denial[];
}

type Member = NonNullable<NonNullable<EkonomisktBistandIncomesQuery['person']>['household']>[number];

export async function run(options: EkonomisktBistandOptions = {}): Promise<EkonomisktBistandResult> {
  const log = options.log ?? console.log;
  const applicant = options.applicant ?? samplePersons(dataDirOf(options), 1).household[0]!;
  const year = options.year ?? 2024;
  const period = { incomeYear: year, from: `${year}-01-01`, to: `${year}-12-31` };
  const send = options.send ?? 'text';
  const claims = { official: 'malmo-handlaggare-17', purpose: 'CASE_HANDLING' as const, caseId: 'SOC-2026-0042', subjects: [applicant] };
  const client = agencyClient('malmo-stad', claims, options);
  try {
    const household = await runOperation(client, EkonomisktBistandHouseholdDocument, { applicant }, { send });
    if (!household.data?.person) throw new Error(`household lookup failed: ${JSON.stringify(denialsOf(household.errors))}`);
    const subjects = [applicant, ...(household.data.person.household ?? []).map((m) => m.personnummer)];
    log(`Malmö stad, ekonomiskt bistånd, case ${claims.caseId}: applicant and ${subjects.length - 1} household member(s) in the case`);

    const incomes = await runOperation(client, EkonomisktBistandIncomesDocument, { applicant, ...period }, { subjects, send });
    const person = incomes.data?.person;
    if (!person || incomes.errors?.length) throw new Error(`income request failed: ${JSON.stringify(denialsOf(incomes.errors))}`);
    const members = [summarise('applicant', person, period.to), ...(person.household ?? []).map((m) => summarise('household member', m, period.to))];
    for (const m of members) {
      log(
        `  ${m.role.padEnd(16)} ${(m.givenName ?? '?').padEnd(12)} earned income ${year}: ${m.earnedIncome === null ? 'none taxed' : kronor(m.earnedIncome)}; ` +
          `benefits paid ${kronor(m.benefitsPaid)}; student aid ${kronor(m.studentAid)}; activity support ${kronor(m.activitySupport)}; ` +
          `distrained ${kronor(m.distrainedPerMonth)}/month`,
      );
    }

    // The denial: the same request for a payment control, which the agreements with CSN,
    // Arbetsförmedlingen and Kronofogden do not cover. The gateway refuses it whole before asking any agency.
    const control = await runOperation(client, EkonomisktBistandIncomesDocument, { applicant, ...period }, { subjects, purpose: 'PAYMENT_CONTROL', send });
    const denials = denialsOf(control.errors);
    log(`Denied for purpose PAYMENT_CONTROL (HTTP ${control.status}, no data): ${denials.map((d) => `${d.field} ${d.code}`).join(', ')}`);
    return { members, denials };
  } finally {
    await client.close();
  }
}

function summarise(role: MemberIncome['role'], member: Member, periodEnd: string): MemberIncome {
  return {
    role,
    givenName: member.name?.givenName ?? null,
    earnedIncome: member.taxedIncome?.[0]?.earnedIncome ?? null,
    benefitsPaid: sum((member.benefitPayments ?? []).map((p) => p.amount)),
    studentAid: sum((member.studentAid ?? []).map((a) => a.grant + a.loan)),
    activitySupport: sum((member.activitySupport ?? []).map((p) => p.amount)),
    distrainedPerMonth: sum((member.distraints ?? []).filter((d) => d.period.end === null || d.period.end >= periodEnd).map((d) => d.monthlyAmount)),
  };
}

runWhenMain(import.meta.url, (options, args) => run({ ...options, ...(typeof args['subject'] === 'string' ? { applicant: args['subject'] } : {}) }));
