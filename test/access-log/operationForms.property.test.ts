import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../support/stack.js';
import { entriesOfCase } from '../support/accessLogEntries.js';
import { releasedCoordinates } from '../support/releasedValues.js';
import { operationForm, render } from '../support/operationForms.js';

/**
 * Released values == entries, always: whatever form an operation takes (fragments named and
 * inline, aliases merging by response key, @skip/@include on literals and on variables with and
 * without defaults, sent or left out, relations to persons outside the case), every personal
 * value a partner receives has its `released` entry and nothing else is logged as released.
 *
 * The expected values are counted from the partner's side only (the document, the variables and
 * the response, re-executed by graphql-js: src/audit/releasedValues.ts), independently of the
 * gateway's reading. The generator is seeded, so a run is repeatable; a failure prints the
 * shrunk counterexample.
 */

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack?.close();
});

const tally = (items: readonly string[]) => {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(item, (counts.get(item) ?? 0) + 1);
  return [...counts.entries()].sort(([a], [b]) => a.localeCompare(b));
};

describe('released values == entries, whatever the form of the operation', () => {
  const RUNS = Number(process.env['PROPERTY_RUNS'] ?? 120);
  const SEED = Number(process.env['PROPERTY_SEED'] ?? 20261201);

  it(`holds for ${RUNS} generated operations`, async () => {
    const [head] = stack.sample.household;
    // The household head and two others are subjects; the rest of the household is reached only by relation.
    const subjects = [head!, stack.sample.withBenefits, stack.sample.withStudentAid];
    let index = 0;
    let released = 0;
    await fc.assert(
      fc.asyncProperty(operationForm, async (form) => {
        const caseId = `PROP-${index++}`;
        const { document, variables } = render(form, { p: head!, ps: [head!, stack.sample.withBenefits] });
        const response = await stack.client('malmo-stad', { official: 'prop-1', purpose: 'CASE_HANDLING', caseId, subjects }).query(document, variables);
        expect(JSON.stringify(response)).not.toContain('_audit_');
        if (process.env['PROPERTY_DEBUG']) console.log(response.status, JSON.stringify(response.errors?.map((e) => e.extensions?.['code'])), document);
        const expected = response.data ? releasedCoordinates(document, variables, response, undefined, subjects) : [];
        const logged = (await entriesOfCase(stack, caseId)).filter((e) => e.outcome === 'released').map((e) => e.field);
        expect(tally(logged), `${document} ${JSON.stringify(variables)}`).toEqual(tally(expected));
        released += expected.length;
      }),
      {
        numRuns: RUNS,
        seed: SEED,
        // The review's case: a field under @include(if: $i) where $i defaults to true and is not sent.
        examples: [
          [
            {
              root: 'person',
              rootAlias: false,
              selections: [{ kind: 'field', leaf: 3, alias: undefined, condition: { kind: 'variable', directive: 'include', variable: 0 }, fragment: 0, children: [] }],
              fragments: [[], []],
              variables: [
                { type: 'Boolean', default: true, sent: undefined },
                { type: 'Boolean!', sent: true },
                { type: 'Boolean!', sent: true },
              ],
            },
          ],
        ],
      },
    );
    // The run released personal data (it would prove nothing if every operation were refused).
    expect(released).toBeGreaterThan(RUNS);
  }, 600_000);
});
