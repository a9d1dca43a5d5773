import {
  getDirectiveValues,
  getVariableValues,
  GraphQLError,
  GraphQLIncludeDirective,
  GraphQLSkipDirective,
  Kind,
  type DocumentNode,
  type SelectionNode,
  type GraphQLSchema,
  type OperationDefinitionNode,
} from 'graphql';
import { ACCESS_LOG_TEXT_LIMITS } from '../audit/entry.js';
import { GatewayError } from '../errors/index.js';
import { MAX_JSON_DEPTH, nestsDeeperThan } from '../http/jsonDepth.js';
import { containsPersonnummer } from '../personnummer/index.js';
import type { CallerContext } from '../identity/callerContext.js';
import type { OperationAnalysis } from './operationAnalysis.js';

/**
 * One request's operation, read once as execution will read it: the variables as graphql-js
 * coerces them (defaults applied, scalars and enums parsed), every `@skip`/`@include` evaluable.
 * Every check and the access log work from this one reading; the gateway then executes with
 * these very variables, so nothing downstream can see the operation differently.
 */
export interface ResolvedOperation {
  readonly schema: GraphQLSchema;
  readonly document: DocumentNode;
  readonly operation: OperationDefinitionNode;
  readonly operationName: string | null;
  /** SHA-256 (hex) of the document, as Apollo Server computes it. */
  readonly documentHash: string;
  /** The request's variables coerced by graphql-js (`getVariableValues`). */
  readonly variables: Readonly<Record<string, unknown>>;
  readonly caller: CallerContext;
  /** What depends on the document alone, worked out once per document. */
  readonly analysis: OperationAnalysis;
}

export interface ResolveInput {
  readonly schema: GraphQLSchema;
  readonly document: DocumentNode;
  readonly operation: OperationDefinitionNode | undefined;
  readonly operationName: string | null | undefined;
  readonly documentHash: string | undefined;
  readonly rawVariables: Readonly<Record<string, unknown>> | undefined;
  readonly caller: CallerContext;
  analyse(schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode): OperationAnalysis;
}

/** Most errors a request's variables can have that are worth reporting at once. */
const MAX_VARIABLE_ERRORS = 25;

/**
 * Resolves the operation or says, with codes, why it cannot run. Messages name variables and
 * directives, never their values: a value may be a personnummer.
 */
export function resolveOperation(input: ResolveInput): ResolvedOperation | { readonly errors: readonly GatewayError[] } {
  const { schema, document, operation } = input;
  if (!operation) {
    return {
      errors: [
        new GatewayError(
          'OPERATION_RESOLUTION_FAILURE',
          typeof input.operationName === 'string' ? 'operationName names no operation of the document.' : 'The document has several operations; say which one with operationName.',
        ),
      ],
    };
  }
  // The access log keeps the name: one it could not keep is refused here, before any fetch (ACCESS_LOG_TEXT_LIMITS).
  const limit = ACCESS_LOG_TEXT_LIMITS.operationName;
  if (operation.name && operation.name.value.length > limit) {
    return { errors: [new GatewayError('BAD_USER_INPUT', `The operation's name is longer than ${limit} characters.`, { problem: 'OPERATION_NAME_TOO_LONG', limit })] };
  }
  // A name such as _199801017790 is a valid GraphQL name, and the log keeps names in plain text.
  if (operation.name && containsPersonnummer(operation.name.value)) {
    return { errors: [new GatewayError('BAD_USER_INPUT', "The operation's name must not contain a personnummer.", { problem: 'PERSONNUMMER_IN_OPERATION_NAME' })] };
  }
  // graphql-js 16 does not validate the operation type against the schema's root types (17's
  // KnownOperationTypesRule does); the query planner would throw on it.
  const root = operation.operation === 'query' ? schema.getQueryType() : operation.operation === 'mutation' ? schema.getMutationType() : schema.getSubscriptionType();
  if (!root) return { errors: [new GatewayError('GRAPHQL_VALIDATION_FAILED', `The API has no ${operation.operation} operations.`, { operationType: operation.operation })] };

  // Variables sent in a URL (GET) never passed the body's reader: the same bound here, before graphql-js walks them.
  if (nestsDeeperThan(input.rawVariables, MAX_JSON_DEPTH)) {
    return { errors: [new GatewayError('BAD_USER_INPUT', `The variables nest arrays and objects deeper than ${MAX_JSON_DEPTH} levels.`, { limit: MAX_JSON_DEPTH })] };
  }
  const coerced = getVariableValues(schema, operation.variableDefinitions ?? [], (input.rawVariables ?? {}) as Record<string, unknown>, { maxErrors: MAX_VARIABLE_ERRORS });
  if (coerced.errors) return { errors: coerced.errors.map(variableError) };
  const variables = coerced.coerced;

  const analysis = input.analyse(schema, document, operation);
  // The conditions as execution will evaluate them (graphql-js's getDirectiveValues): a null where
  // `if: Boolean!` is required fails here with a code instead of inside the query planner.
  const refused = new Map<string, GatewayError>();
  for (const node of analysis.conditionalSelections) {
    for (const directive of [GraphQLSkipDirective, GraphQLIncludeDirective]) {
      try {
        getDirectiveValues(directive, node, variables);
      } catch (error) {
        if (!(error instanceof GraphQLError)) throw error;
        const variable = conditionVariable(node, directive.name);
        const key = `${directive.name}:${variable ?? ''}`;
        if (!refused.has(key)) {
          refused.set(
            key,
            new GatewayError('BAD_USER_INPUT', `@${directive.name}(if:${variable ? ` $${variable}` : ''}) needs a Boolean, not null.`, {
              directive: directive.name,
              ...(variable ? { variable } : {}),
              problem: 'INVALID_CONDITION',
            }),
          );
        }
      }
    }
  }
  if (refused.size > 0) return { errors: [...refused.values()] };

  return {
    schema,
    document,
    operation,
    operationName: input.operationName ?? operation.name?.value ?? null,
    documentHash: input.documentHash ?? '',
    variables,
    caller: input.caller,
    analysis,
  };
}

function variableError(error: GraphQLError): GatewayError {
  const node = error.nodes?.[0];
  const name = node && 'variable' in node && node.variable && typeof node.variable === 'object' && 'name' in node.variable ? (node.variable.name as { value: string }).value : undefined;
  return new GatewayError('BAD_USER_INPUT', name ? `Variable $${name} has a value that does not fit its type.` : 'A variable has a value that does not fit its type.', {
    ...(name ? { variable: name } : {}),
    problem: 'INVALID_VARIABLE',
  });
}

function conditionVariable(node: SelectionNode, directive: string): string | undefined {
  const value = node.directives?.find((d) => d.name.value === directive)?.arguments?.find((a) => a.name.value === 'if')?.value;
  return value?.kind === Kind.VARIABLE ? value.name.value : undefined;
}
