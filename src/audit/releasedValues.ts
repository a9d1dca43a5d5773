import { executeSync, type GraphQLError, parse, responsePathAsArray, type GraphQLFormattedError, type GraphQLSchema } from 'graphql';
import type { PersonalFieldCatalogue } from '../policy/personalFieldCatalogue.js';

export interface ReleasedValuesInput {
  /** The public API schema (schema/api.graphql): what the partner sees. */
  readonly schema: GraphQLSchema;
  readonly catalogue: PersonalFieldCatalogue;
  readonly document: string;
  readonly variables?: Record<string, unknown> | undefined;
  readonly operationName?: string | undefined;
  /** The response exactly as the partner received it. */
  readonly data: Record<string, unknown> | null | undefined;
  readonly errors?: readonly GraphQLFormattedError[] | undefined;
  /**
   * The subjects of the case. Given, a person's key (personnummer) the response discloses for
   * anyone else (a household member) counts as a released value too: the caller did not hold it.
   */
  readonly caseSubjects?: readonly string[] | undefined;
  /**
   * The concrete type of an object of a union or interface whose `__typename` the document does
   * not select (what the caller knows of its data). Without it such an object cannot be counted.
   */
  readonly typeOf?: ((value: Record<string, unknown>) => string | undefined) | undefined;
}

/**
 * An object of a union or interface in the response whose type the auditor cannot tell (no
 * `__typename` selected, no `typeOf`): its personal values could not be counted, and a count
 * that left them out would hide a missing access-log entry.
 */
export class UncountableResponseError extends Error {
  constructor(readonly paths: readonly string[]) {
    super(`The response cannot be counted: ${paths.length} object(s) of a union or interface without __typename (first at ${paths[0]}); select __typename there.`);
    this.name = 'UncountableResponseError';
  }
}

/**
 * Counts the personal field values a partner received, from the partner's side: the document,
 * the variables and the response only, independent of the gateway's own bookkeeping. It is the
 * auditor's check that the access log holds a `released` entry for each (tests, the soak run).
 *
 * The response is re-executed over the API schema with a resolver that reads each value by its
 * response key, so graphql-js itself applies fragments, aliases and @skip/@include. A value counts
 * as released when it is present, unless it is null with an error at its path or above it (withheld).
 */
export function countReleasedPersonalValues(input: ReleasedValuesInput): number {
  return releasedPersonalValues(input).length;
}

/** The coordinate (`Type.field`) of each personal value a partner received, in response order (see countReleasedPersonalValues). */
export function releasedPersonalValues(input: ReleasedValuesInput): string[] {
  if (!input.data) return [];
  const errorPaths = new Set<string>();
  for (const error of input.errors ?? []) if (error.path) errorPaths.add(error.path.join('.'));
  const withheld = (path: readonly (string | number)[]): boolean => {
    for (let length = path.length; length > 0; length--) if (errorPaths.has(path.slice(0, length).join('.'))) return true;
    return false;
  };
  const released: string[] = [];
  const unresolved: string[] = [];
  const subjects = input.caseSubjects ? new Set(input.caseSubjects) : undefined;
  const result = executeSync({
    schema: input.schema,
    document: parse(input.document),
    rootValue: input.data,
    variableValues: input.variables ?? {},
    operationName: input.operationName,
    fieldResolver: (source, _args, _context, info) => {
      const key = info.path.key as string;
      if (typeof source !== 'object' || source === null || !(key in source)) return undefined;
      const value = (source as Record<string, unknown>)[key];
      const coordinate = `${info.parentType.name}.${info.fieldName}`;
      if (input.catalogue.fields.has(coordinate)) {
        if (value !== null || !withheld(responsePathAsArray(info.path))) released.push(coordinate);
      } else if (subjects && typeof value === 'string' && input.catalogue.subjectTypes.get(info.parentType.name)?.keyField === info.fieldName && !subjects.has(value)) {
        released.push(coordinate);
      }
      return value;
    },
    typeResolver: (value, _context, info) => {
      const typename = (value as { __typename?: unknown }).__typename;
      if (typeof typename === 'string') return typename;
      const known = input.typeOf?.(value as Record<string, unknown>);
      if (known === undefined) unresolved.push(responsePathAsArray(info.path).join('.'));
      return known;
    },
  });
  if (unresolved.length > 0) throw new UncountableResponseError(unresolved);
  // Errors from re-execution are the gateway's nulls meeting non-null types; the count stands.
  void (result.errors as readonly GraphQLError[] | undefined);
  return released;
}
