import { Kind, type FragmentDefinitionNode, type GraphQLSchema, type OperationDefinitionNode } from 'graphql';
import { GatewayError, type GatewayErrorCode } from '../errors/index.js';
import type { OperationLimits } from '../config/limitsConfig.js';
import type { PersonalFieldCatalogue } from '../policy/personalFieldCatalogue.js';
import { refuse, type OperationCheck } from '../pipeline/stages.js';
import { PERSONNUMMER_SCALAR } from '../pipeline/personnummerInputs.js';
import { measureOperation, type OperationShape } from '../limits/operationShape.js';

interface Limit {
  readonly code: GatewayErrorCode;
  readonly measure: keyof OperationShape;
  readonly max: (limits: OperationLimits) => number;
  readonly variable: string;
  readonly what: string;
}

/** One row per limit: the code a partner switches on, and the variable an operator raises. */
const LIMITS: readonly Limit[] = [
  { code: 'QUERY_TOO_DEEP', measure: 'depth', max: (l) => l.maxDepth, variable: 'LIMIT_DEPTH', what: 'nesting depth' },
  { code: 'TOO_MANY_ALIASES', measure: 'aliases', max: (l) => l.maxAliases, variable: 'LIMIT_ALIASES', what: 'aliases' },
  { code: 'TOO_MANY_ROOT_FIELDS', measure: 'rootFields', max: (l) => l.maxRootFields, variable: 'LIMIT_ROOT_FIELDS', what: 'root fields' },
  { code: 'TOO_MANY_PERSONS', measure: 'persons', max: (l) => l.maxPersons, variable: 'LIMIT_PERSONS', what: 'persons reached' },
  { code: 'QUERY_TOO_COSTLY', measure: 'cost', max: (l) => l.maxCost, variable: 'LIMIT_COST', what: 'cost' },
];

/** Counts above this are reported as this (Infinity does not survive JSON). */
const REPORTED_MAX = Number.MAX_SAFE_INTEGER;

/**
 * The static limits on an operation: depth, aliases, root fields, persons reached and cost, each
 * refused with its own code and the limit in the error. They run after validation and before the
 * purpose check, so an oversized operation calls no subgraph and writes nothing to the access log.
 *
 * Persons reached is the limit that matters for personal data: it counts every personnummer the
 * operation names (list arguments and variables), every alias that repeats a lookup, and every
 * household the operation expands (at LIMIT_HOUSEHOLD_SIZE each), so neither aliases nor lists
 * can multiply person reads past LIMIT_PERSONS. Batched HTTP requests are refused before this
 * (BATCHING_NOT_ALLOWED), so one request is one operation.
 */
export function operationLimitCheck(options: { readonly limits: OperationLimits; catalogue(): PersonalFieldCatalogue }): OperationCheck {
  // Most operations' shape is fixed by their document (only list lengths given in variables vary):
  // such a shape is measured once per operation, the others on every request.
  const fixedShapes = new WeakMap<OperationDefinitionNode, { readonly schema: GraphQLSchema; readonly shape: OperationShape }>();
  return ({ schema, document, operation, variables }) => {
    const fixed = fixedShapes.get(operation);
    if (fixed?.schema === schema) return refuse(refusals(fixed.shape, options.limits));
    const fragments = new Map<string, FragmentDefinitionNode>();
    for (const definition of document.definitions) if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
    const shape = measureOperation({
      schema,
      fragments,
      operation,
      // Coerced: a list given as a variable's default counts as much as one sent.
      variables,
      subjectTypes: new Set(options.catalogue().subjectTypes.keys()),
      personnummerScalar: PERSONNUMMER_SCALAR,
      householdSize: options.limits.householdSize,
      listSize: options.limits.listSize,
    });
    if (!shape.readsVariables) fixedShapes.set(operation, { schema, shape });
    return refuse(refusals(shape, options.limits));
  };
}

/** The errors for a measured shape: one per limit exceeded. */
export function refusals(shape: OperationShape, limits: OperationLimits): GatewayError[] {
  const errors: GatewayError[] = [];
  for (const limit of LIMITS) {
    const actual = shape[limit.measure];
    const max = limit.max(limits);
    if (actual <= max) continue;
    errors.push(
      new GatewayError(limit.code, `The operation's ${limit.what} (${Math.min(actual, REPORTED_MAX)}) exceeds the gateway's limit of ${max}.`, {
        limit: max,
        actual: Math.min(actual, REPORTED_MAX),
      }),
    );
  }
  return errors;
}
