import { readFileSync } from 'node:fs';
import { buildSchema, type GraphQLFormattedError, type GraphQLSchema } from 'graphql';
import { DEFAULT_API_SCHEMA_PATH, DEFAULT_SUPERGRAPH_PATH } from '../../src/config/paths.js';
import { readPersonalFieldCatalogue, type PersonalFieldCatalogue } from '../../src/policy/personalFieldCatalogue.js';
import { releasedPersonalValues } from '../../src/audit/releasedValues.js';

let cached: { schema: GraphQLSchema; catalogue: PersonalFieldCatalogue } | undefined;

/** Personal values a partner received in one response (the auditor's count; see src/audit/releasedValues.ts). */
export function releasedValues(
  document: string,
  variables: Record<string, unknown> | undefined,
  response: { data?: unknown; errors?: readonly GraphQLFormattedError[] | undefined },
  operationName?: string,
  caseSubjects?: readonly string[],
): number {
  return releasedCoordinates(document, variables, response, operationName, caseSubjects).length;
}

/** The coordinate of each personal value a partner received in one response. */
export function releasedCoordinates(
  document: string,
  variables: Record<string, unknown> | undefined,
  response: { data?: unknown; errors?: readonly GraphQLFormattedError[] | undefined },
  operationName?: string,
  caseSubjects?: readonly string[],
): string[] {
  cached ??= { schema: buildSchema(readFileSync(DEFAULT_API_SCHEMA_PATH, 'utf8')), catalogue: readPersonalFieldCatalogue(readFileSync(DEFAULT_SUPERGRAPH_PATH, 'utf8')) };
  return releasedPersonalValues({ ...cached, document, variables, operationName, caseSubjects, data: response.data as Record<string, unknown> | null | undefined, errors: response.errors });
}
