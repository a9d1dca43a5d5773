import { InvalidPersonnummerError, parsePersonnummer } from '../personnummer/index.js';
import { GatewayError } from '../errors/index.js';
import type { Denial } from '../audit/accessLogEntries.js';
import { GATEWAY_AGENCY_ID } from '../audit/entry.js';
import { personnummerInputs, type PersonnummerInput } from '../pipeline/personnummerInputs.js';
import { refuse, type OperationCheck } from '../pipeline/stages.js';

/**
 * Checks every personnummer an operation passes in before the query plan runs, so a malformed
 * number never reaches an agency and the caller learns exactly what is wrong. The value itself is
 * never echoed.
 */
export function checkPersonnummerInputs(inputs: readonly PersonnummerInput[]): GatewayError[] {
  const errors: GatewayError[] = [];
  for (const input of inputs) {
    try {
      parsePersonnummer(input.value);
    } catch (error) {
      if (!(error instanceof InvalidPersonnummerError)) throw error;
      errors.push(new GatewayError('BAD_USER_INPUT', `${input.where}: ${error.message}`, { argument: input.where, problem: error.problem }));
    }
  }
  return errors;
}

/**
 * A personnummer is personal data, and so is the answer to "is this number in the register?": a
 * caller may ask only about the subjects its request token names for the case. Any other number
 * refuses the whole operation before an agency is asked, one error per argument (never the
 * number), and one denial per number for the access log, so the person asked about sees the
 * attempt in their own report.
 */
export function checkSubjectBinding(inputs: readonly PersonnummerInput[], caseSubjects: readonly string[]): { readonly errors: GatewayError[]; readonly denials: Denial[] } {
  const subjects = new Set(caseSubjects);
  const errors: GatewayError[] = [];
  const denials: Denial[] = [];
  const reported = new Set<string>();
  for (const input of inputs) {
    const canonical = parsePersonnummer(input.value).canonical;
    if (subjects.has(canonical)) continue;
    denials.push({ field: input.coordinate, owningAgency: GATEWAY_AGENCY_ID, outcomeCode: 'SUBJECT_NOT_IN_CASE', subject: canonical });
    if (reported.has(input.where)) continue;
    reported.add(input.where);
    errors.push(
      new GatewayError('SUBJECT_NOT_IN_CASE', `${input.where}: a personnummer that is not a subject of the case; ask only about the subjects named in the request token.`, {
        argument: input.where,
        reason: 'INPUT_NOT_A_SUBJECT',
      }),
    );
  }
  return { errors, denials };
}

/**
 * Every personnummer the operation passes in must be well formed, and must be a subject of the
 * caller's case: first the malformed ones (a caller's mistake, 400), then the ones outside the
 * case (403, logged as denials).
 */
export const personnummerInputCheck: OperationCheck = ({ analysis, variables, caller }) => {
  const { inputs, errors } = personnummerInputs(analysis.personnummerInputs, variables);
  const malformed = [...errors, ...checkPersonnummerInputs(inputs)];
  if (malformed.length > 0) return refuse(malformed);
  const binding = checkSubjectBinding(inputs, caller.subjects);
  return refuse(binding.errors, binding.denials);
};
