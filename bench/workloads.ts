/**
 * The benchmark's workloads: fixed operations with variables, the case each one belongs to (the
 * request token's subjects), what a correct answer looks like, and the subgraph calls the fan-out
 * client makes for the same data without a gateway.
 */
import Database from 'better-sqlite3';
import { agencyDbPath } from '../src/population/index.js';
import type { Purpose } from '../src/policy/purposes.js';

/** The fields every workload reads of each person: one or two from each of the four agencies. */
const PERSON_FIELDS = `
  personnummer
  name { givenName familyName }
  taxedIncome { year employmentIncome }
  benefits { benefit amount unit }
  studentAid { grant loan }
  jobSeeker { status }`;

/** Per agency subgraph, the fields of a Person entity the fan-out client asks it for. */
export const ENTITY_FIELDS: Readonly<Record<'forsakringskassan' | 'csn' | 'arbetsformedlingen', string>> = {
  forsakringskassan: 'benefits { benefit amount unit }',
  csn: 'studentAid { grant loan }',
  arbetsformedlingen: 'jobSeeker { status }',
};
const SKATTEVERKET_FIELDS = 'personnummer name { givenName familyName } taxedIncome { year employmentIncome }';

export type WorkloadName = 'onePerson' | 'household' | 'list50' | 'denied' | `persons${number}`;

export interface Workload {
  readonly name: WorkloadName;
  readonly title: string;
  /** The calling agency (its development certificate) and the request token's claims. */
  readonly agency: string;
  readonly purpose: Purpose;
  readonly subjects: readonly string[];
  readonly query: string;
  readonly variables: Record<string, unknown>;
  /** Refused by our gateway's purpose check before any subgraph call; bare engines have no policy to refuse it. */
  readonly denied: boolean;
  /** What the fan-out client asks Skatteverket first; the other three are then asked for the persons it returned. */
  readonly fanOut?: { readonly query: string; readonly variables: Record<string, unknown> };
  /** Problems with a gateway's answer; empty when it is right. */
  check(status: number, body: GatewayAnswer): string[];
}

export interface GatewayAnswer {
  readonly data?: Record<string, unknown> | null;
  readonly errors?: readonly { readonly message?: string; readonly extensions?: Record<string, unknown> }[];
}

/** Personnummer chosen from the stores the same way every run. Never printed: they are (synthetic) personal identity numbers. */
export interface BenchSubjects {
  /** Unprotected, with data at all four agencies. */
  readonly onePerson: string;
  /** The six members of one household of exactly six unprotected persons. */
  readonly household: readonly string[];
  /** Unprotected persons spread over the register, as many as the largest list asked for. */
  readonly many: readonly string[];
}

export function findSubjects(dataDir: string, manyCount: number): BenchSubjects {
  const db = new Database(agencyDbPath(dataDir, 'skatteverket'), { readonly: true, fileMustExist: true });
  try {
    db.prepare('ATTACH DATABASE ? AS fk').run(agencyDbPath(dataDir, 'forsakringskassan'));
    db.prepare('ATTACH DATABASE ? AS csn').run(agencyDbPath(dataDir, 'csn'));
    db.prepare('ATTACH DATABASE ? AS af').run(agencyDbPath(dataDir, 'arbetsformedlingen'));
    // EXISTS on each agency's personnummer index stops at the first match, also in a million persons.
    const onePerson = db
      .prepare(
        `SELECT p.personnummer FROM main.person p WHERE p.protected_identity = 'NONE'
           AND EXISTS (SELECT 1 FROM fk.benefit_decision b WHERE b.personnummer = p.personnummer)
           AND EXISTS (SELECT 1 FROM csn.student_aid_period s WHERE s.personnummer = p.personnummer)
           AND EXISTS (SELECT 1 FROM af.job_seeker_registration j WHERE j.personnummer = p.personnummer)
         ORDER BY p.rowid LIMIT 1`,
      )
      .pluck()
      .get() as string | undefined;
    const householdId = db
      .prepare(
        `SELECT household_id FROM main.person GROUP BY household_id
         HAVING count(*) = 6 AND min(protected_identity) = 'NONE' AND max(protected_identity) = 'NONE'
         ORDER BY household_id LIMIT 1`,
      )
      .pluck()
      .get() as number | undefined;
    if (onePerson === undefined || householdId === undefined) throw new Error('The bench population is too small: no person at all four agencies or no household of six.');
    const household = db.prepare('SELECT personnummer FROM main.person WHERE household_id = ? ORDER BY rowid').pluck().all(householdId) as string[];
    const total = db.prepare(`SELECT max(rowid) FROM main.person`).pluck().get() as number;
    const step = Math.max(1, Math.floor(total / (manyCount * 2)));
    const many = db.prepare(`SELECT personnummer FROM main.person WHERE protected_identity = 'NONE' AND rowid % ? = 0 ORDER BY rowid LIMIT ?`).pluck().all(step, manyCount) as string[];
    if (many.length < manyCount) throw new Error(`The bench population has fewer than ${manyCount} unprotected persons.`);
    return { onePerson, household, many };
  } finally {
    db.close();
  }
}

function personProblems(person: unknown, where: string): string[] {
  if (typeof person !== 'object' || person === null) return [`${where}: no person`];
  const p = person as Record<string, unknown>;
  const problems: string[] = [];
  if (typeof p['personnummer'] !== 'string') problems.push(`${where}: no personnummer`);
  if (typeof p['name'] !== 'object' || p['name'] === null) problems.push(`${where}: no name (Skatteverket)`);
  if (!Array.isArray(p['taxedIncome'])) problems.push(`${where}: no taxedIncome (Skatteverket)`);
  // Försäkringskassan, CSN and Arbetsförmedlingen answer null for persons they have nothing on, but the key must be there.
  for (const field of ['benefits', 'studentAid', 'jobSeeker']) if (!(field in p)) problems.push(`${where}: ${field} missing`);
  return problems;
}

function okAnswer(status: number, body: GatewayAnswer): string[] {
  const problems: string[] = [];
  if (status !== 200) problems.push(`HTTP ${status}`);
  if (body.errors?.length) problems.push(`errors: ${body.errors.map((e) => String(e.extensions?.['code'] ?? 'no code')).join(', ')}`);
  return problems;
}

const fanOutList = (subjects: readonly string[]) => ({
  query: `query ($p: [Personnummer!]!) { persons(personnummer: $p) { ${SKATTEVERKET_FIELDS} } }`,
  variables: { p: subjects },
});

export function personsWorkload(subjects: readonly string[], name: WorkloadName, title: string): Workload {
  return {
    name,
    title,
    agency: 'malmo-stad',
    purpose: 'CASE_HANDLING',
    subjects,
    query: `query Persons($p: [Personnummer!]!) { persons(personnummer: $p) { ${PERSON_FIELDS} } }`,
    variables: { p: subjects },
    denied: false,
    fanOut: fanOutList(subjects),
    check(status, body) {
      const persons = body.data?.['persons'];
      if (!Array.isArray(persons) || persons.length !== subjects.length) return [...okAnswer(status, body), `expected ${subjects.length} persons`];
      return [...okAnswer(status, body), ...persons.flatMap((p, i) => personProblems(p, `persons[${i}]`))];
    },
  };
}

export function workloads(subjects: BenchSubjects): Workload[] {
  const household = subjects.household;
  const head = household[0]!;
  return [
    {
      name: 'onePerson',
      title: 'one person, four agencies',
      agency: 'malmo-stad',
      purpose: 'CASE_HANDLING',
      subjects: [subjects.onePerson],
      query: `query OnePerson($p: Personnummer!) { person(personnummer: $p) { ${PERSON_FIELDS} } }`,
      variables: { p: subjects.onePerson },
      denied: false,
      fanOut: { query: `query ($p: Personnummer!) { person(personnummer: $p) { ${SKATTEVERKET_FIELDS} } }`, variables: { p: subjects.onePerson } },
      check: (status, body) => [...okAnswer(status, body), ...personProblems(body.data?.['person'], 'person')],
    },
    {
      name: 'household',
      title: 'household of 6',
      agency: 'malmo-stad',
      purpose: 'CASE_HANDLING',
      subjects: household,
      query: `query Household($p: Personnummer!) { person(personnummer: $p) { ${PERSON_FIELDS} household { ${PERSON_FIELDS} } } }`,
      variables: { p: head },
      denied: false,
      fanOut: {
        query: `query ($p: Personnummer!) { person(personnummer: $p) { ${SKATTEVERKET_FIELDS} household { ${SKATTEVERKET_FIELDS} } } }`,
        variables: { p: head },
      },
      check(status, body) {
        const person = body.data?.['person'] as Record<string, unknown> | null | undefined;
        const members = person?.['household'];
        if (!Array.isArray(members) || members.length !== household.length - 1) return [...okAnswer(status, body), `expected ${household.length - 1} household members`];
        return [...okAnswer(status, body), ...personProblems(person, 'person'), ...members.flatMap((m, i) => personProblems(m, `household[${i}]`))];
      },
    },
    personsWorkload(subjects.many.slice(0, 50), 'list50', 'list of 50 persons'),
    {
      name: 'denied',
      title: 'denied (health data, no agreement)',
      agency: 'malmo-stad',
      purpose: 'CASE_HANDLING',
      subjects: [subjects.onePerson],
      // Malmö stad has no agreement for Försäkringskassan's HEALTH_RELATED data: refused before any subgraph call.
      query: `query Denied($p: Personnummer!) { person(personnummer: $p) { name { givenName } sicknessBenefit { outcome decidedOn } } }`,
      variables: { p: subjects.onePerson },
      denied: true,
      check(status, body) {
        const codes = (body.errors ?? []).map((e) => e.extensions?.['code']);
        const problems: string[] = [];
        if (status !== 403) problems.push(`expected HTTP 403, got ${status}`);
        if (!codes.includes('NO_AGREEMENT')) problems.push(`expected NO_AGREEMENT, got ${codes.join(', ') || 'no error'}`);
        if (body.data) problems.push('data released');
        return problems;
      },
    },
  ];
}

/** JSON with object keys sorted: two engines' answers compare equal when they hold the same data. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}
