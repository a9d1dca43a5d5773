import { readFileSync } from 'node:fs';
import { buildSchema, executeSync, parse, responsePathAsArray, type GraphQLFormattedError, type GraphQLResolveInfo, type GraphQLSchema } from 'graphql';
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

export interface PersonalValuesInput {
  /** The API schema the partner queried. */
  readonly schema: GraphQLSchema;
  readonly catalogue: PersonalFieldCatalogue;
  readonly document: string;
  readonly variables?: Record<string, unknown> | undefined;
  readonly response: { data?: unknown; errors?: readonly GraphQLFormattedError[] | undefined };
  /** The type of an object of an abstract type whose `__typename` the document does not select (what the test knows of its data). */
  readonly typeOf?: (value: Record<string, unknown>) => string | undefined;
  /** The subjects of the case: a key (personnummer) the response discloses for anyone else is a released value of its own. */
  readonly caseSubjects?: readonly string[];
}

/**
 * Every personal value of a response, counted from the partner's side as `tally()` counts log
 * entries (`subject|Type.field|outcome|code`): graphql-js re-executes the document over the
 * response, reading each value by its response key, so fragments, aliases and abstract types are
 * applied by graphql-js itself. The subject is the key of the object the value sits on, as the
 * response shows it (the document must select it, under any alias); the type of an object of an
 * abstract type is its `__typename`, or else what `typeOf` says. A value is withheld when it
 * is null with a coded error at its path or above, released otherwise (a null without an error too).
 */
export function tallyPersonalValues(input: PersonalValuesInput): Map<string, number> {
  const counts = new Map<string, number>();
  if (!input.response.data) return counts;
  const errorCodes = new Map<string, string>();
  for (const error of input.response.errors ?? []) {
    if (error.path) errorCodes.set(error.path.join('.'), String(error.extensions?.['code'] ?? 'UNCODED'));
  }
  const codeAt = (path: readonly (string | number)[]): string | undefined => {
    for (let length = path.length; length > 0; length--) {
      const code = errorCodes.get(path.slice(0, length).join('.'));
      if (code) return code;
    }
    return undefined;
  };
  const document = parse(input.document);
  // First pass: the subject of every object of a data-subject type, from its key as selected.
  const subjects = new WeakMap<object, string | null>();
  const execute = (onValue: (source: object, value: unknown, info: GraphQLResolveInfo) => void) =>
    executeSync({
      schema: input.schema,
      document,
      rootValue: input.response.data,
      variableValues: input.variables ?? {},
      fieldResolver: (source, _args, _context, info) => {
        const key = info.path.key as string;
        if (typeof source !== 'object' || source === null || !(key in source)) return undefined;
        const value = (source as Record<string, unknown>)[key];
        onValue(source, value, info);
        return value;
      },
      typeResolver: (value) => (value as { __typename?: string }).__typename ?? input.typeOf?.(value as Record<string, unknown>),
    });
  execute((source, value, info) => {
    if (input.catalogue.subjectTypes.get(info.parentType.name)?.keyField === info.fieldName) subjects.set(source, typeof value === 'string' ? value : null);
  });
  const caseSubjects = input.caseSubjects ? new Set(input.caseSubjects) : undefined;
  execute((source, value, info) => {
    const coordinate = `${info.parentType.name}.${info.fieldName}`;
    if (caseSubjects && typeof value === 'string' && !caseSubjects.has(value) && input.catalogue.subjectTypes.get(info.parentType.name)?.keyField === info.fieldName) {
      const tallyKey = `${value}|${coordinate}|released|`;
      counts.set(tallyKey, (counts.get(tallyKey) ?? 0) + 1);
    }
    if (!input.catalogue.fields.has(coordinate)) return;
    const subject = subjects.has(source) ? subjects.get(source) : 'key-not-selected';
    const code = value === null ? codeAt(responsePathAsArray(info.path)) : undefined;
    const tallyKey = `${subject}|${coordinate}|${code ? 'withheld' : 'released'}|${code ?? ''}`;
    counts.set(tallyKey, (counts.get(tallyKey) ?? 0) + 1);
  });
  return counts;
}
