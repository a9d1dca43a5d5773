import { getOperationAST, parse, validate } from 'graphql';
import { describe, expect, it } from 'vitest';
import { caller, catalogue, checks, OUTSIDE_CASE, schema, SUBJECT } from '../support/pipelineChecks.js';
import { checkOperation } from '../../src/pipeline/checkOperation.js';
import { createOperationAnalyser } from '../../src/pipeline/operationAnalysis.js';
import { resolveOperation } from '../../src/pipeline/resolveOperation.js';

/**
 * One request runs one operation of its document. What the checks read of the document is that
 * operation and the fragments it reaches (graphql-js's separateOperations): a fragment only
 * another operation spreads is not asked for, and must neither refuse the request nor put a
 * denial about a person it names into the access log (a false line in that person's report).
 * A fragment the operation does reach, however deeply, is checked as if written inline.
 *
 * Every place a hazard can sit × every check a hazard trips: refused exactly when reachable.
 */

interface Hazard {
  readonly name: string;
  /** A Query selection that trips one check; `$x` is a Boolean with a default its operation declares (valid in `if:`, yet a request may send null). */
  readonly selection: string;
  readonly usesX: boolean;
  /** The variables of a request that trips it. */
  readonly variables: Record<string, unknown>;
  readonly code: string;
  /** A refusal for it logs a denial (subjects outside the case, the purpose check). */
  readonly denied: boolean;
}

const HAZARDS: readonly Hazard[] = [
  { name: 'a personnummer outside the case', selection: `person(personnummer: "${OUTSIDE_CASE}") { name { givenName } }`, usesX: false, variables: {}, code: 'SUBJECT_NOT_IN_CASE', denied: true },
  { name: 'a field no agreement covers', selection: `person(personnummer: "${SUBJECT}") { sicknessBenefit { outcome } }`, usesX: false, variables: {}, code: 'NO_AGREEMENT', denied: true },
  {
    name: 'an @include condition given null',
    selection: `person(personnummer: "${SUBJECT}") { name @include(if: $x) { givenName } }`,
    usesX: true,
    variables: { x: null },
    code: 'BAD_USER_INPUT',
    denied: false,
  },
];

/** Where the hazard sits, and whether operation A (the one run) reaches it. */
const PLACES: ReadonlyArray<{ readonly name: string; readonly reachable: boolean; document(hazard: string, aVars: string, bVars: string): string }> = [
  { name: 'in operation A itself', reachable: true, document: (h, a) => `query A${a} { myAgreements { id } ${h} }\nquery B { myAgreements { owner } }` },
  { name: 'in a fragment A spreads', reachable: true, document: (h, a) => `query A${a} { ...F }\nquery B { myAgreements { owner } }\nfragment F on Query { ${h} }` },
  {
    name: 'in a fragment A reaches through another fragment',
    reachable: true,
    document: (h, a) => `query A${a} { ...G }\nfragment G on Query { myAgreements { id } ...F }\nfragment F on Query { ${h} }`,
  },
  { name: 'in a fragment both operations spread', reachable: true, document: (h, a) => `query A${a} { ...F }\nquery B${a} { ...F }\nfragment F on Query { ${h} }` },
  { name: 'in an inline fragment of A', reachable: true, document: (h, a) => `query A${a} { ... on Query { ${h} } }` },
  { name: 'in a fragment only B spreads', reachable: false, document: (h, _a, b) => `query A { myAgreements { id } }\nquery B${b} { ...F }\nfragment F on Query { ${h} }` },
  {
    name: 'in a fragment only B reaches, through another fragment',
    reachable: false,
    document: (h, _a, b) => `query A { ...G }\nquery B${b} { ...H }\nfragment G on Query { myAgreements { id } }\nfragment H on Query { ...F }\nfragment F on Query { ${h} }`,
  },
  { name: 'in operation B itself', reachable: false, document: (h, _a, b) => `query A { myAgreements { id } }\nquery B${b} { ${h} }` },
];

describe('the checks read the operation that runs and the fragments it reaches, not the rest of its document', () => {
  for (const place of PLACES) {
    for (const hazard of HAZARDS) {
      it(`${hazard.name} ${place.name}: ${place.reachable ? 'refused' : 'not asked for, so neither refused nor logged'}`, async () => {
        const declaresX = hazard.usesX ? '($x: Boolean = true)' : '';
        const text = place.document(hazard.selection, place.reachable ? declaresX : '', place.reachable ? '' : declaresX);
        const document = parse(text);
        // Only documents graphql-js would execute: every form here is valid as written.
        expect(validate(schema, document).map((e) => e.message)).toEqual([]);
        const analyse = createOperationAnalyser({ catalogue });
        const resolved = resolveOperation({
          schema,
          document,
          operation: getOperationAST(document, 'A') ?? undefined,
          operationName: 'A',
          documentHash: 'h',
          rawVariables: place.reachable ? hazard.variables : {},
          caller,
          analyse,
        });
        if ('errors' in resolved) {
          // The @include condition is read when the variables are: refused there, before any check.
          expect(place.reachable).toBe(true);
          expect(resolved.errors.map((e) => e.code)).toEqual([hazard.code]);
          return;
        }
        const outcome = await checkOperation(resolved, checks);
        if (!place.reachable) {
          expect('refusal' in outcome ? outcome.refusal.errors.map((e) => e.code) : []).toEqual([]);
          return;
        }
        expect('refusal' in outcome).toBe(true);
        if (!('refusal' in outcome)) return;
        expect(outcome.refusal.errors.map((e) => e.code)).toEqual([hazard.code]);
        expect(outcome.refusal.denials.length > 0).toBe(hazard.denied);
      });
    }
  }
});
