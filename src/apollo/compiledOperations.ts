import { createHash } from 'node:crypto';
import Negotiator from 'negotiator';
import { HeaderMap, type GraphQLResponse } from '@apollo/server';
import { buildOperationContext, executeQueryPlan, type ServiceMap } from '@apollo/gateway';
import { operationFromDocument, Supergraph } from '@apollo/federation-internals';
import { QueryPlanner, type QueryPlan } from '@apollo/query-planner';
import {
  BREAK,
  getOperationAST,
  GraphQLError,
  Kind,
  parse,
  specifiedRules,
  validate,
  visit,
  type DocumentNode,
  type GraphQLFormattedError,
  type GraphQLSchema,
  type OperationDefinitionNode,
} from 'graphql';
import type { AdmittedRequest, CheckedOperation } from '../pipeline/stages.js';
import { documentId } from '../trusted-documents/documentId.js';
import type { TrustedDocuments } from '../trusted-documents/manifest.js';
import { maskUnexpectedError } from '../errors/maskErrors.js';
import type { DirectAnswer } from './requestHandler.js';
import { completeResponse, reportUnexpected, resolveAndCheck, type GatewayPluginOptions } from './gatewayPlugin.js';

/*
 * Compiled trusted operations. A registered document is known before any request, so what depends
 * on the document alone is done once, at its first use: parsing, validation, the operation
 * analysis (the checks' and the access log's facts, the marked document), and Apollo's query
 * plan over the marked document. A request for it then skips Apollo Server's request pipeline
 * and @apollo/gateway's per-request planning work, and runs only what depends on the request: the
 * one reading of the operation (graphql-js's variable coercion), the checks, the plan's subgraph
 * calls through the same data sources (context token per call, breaker, timeout, transport),
 * release with the access log, and serialisation.
 *
 * The same stages run as on Apollo Server's path (gatewayPlugin.ts: resolveAndCheck before
 * execution, completeResponse as the response leaves), and the answer is written as Apollo
 * Server writes it: the same status, content type, cache-control, error formatting and masking,
 * and key order. Anything this path does not take on is left to Apollo Server: a document that is
 * not registered for the caller, does not parse or validate, uses introspection, names no
 * operation or not a query; a body with extensions or fields of the wrong type; an Accept header
 * without JSON. test/gateway/compiledOperations.test.ts runs documents through both paths and
 * compares the answers byte for byte.
 */

/** Once per document and operation name: everything execution needs that does not depend on the request. */
interface CompiledOperation {
  readonly schema: GraphQLSchema;
  /** The trusted-document id of the text, for the per-request registration lookup. */
  readonly documentId: string;
  readonly document: DocumentNode;
  readonly operation: OperationDefinitionNode;
  /** SHA-256 (hex) of the request's text, as Apollo Server computes its queryHash. */
  readonly documentHash: string;
  /** Apollo's plan for the marked document (the access log's subject markers added). */
  readonly plan: QueryPlan;
  readonly operationContext: ReturnType<typeof buildOperationContext>;
}

export interface CompiledOperationsOptions {
  readonly supergraphSdl: string;
  /** The API schema Apollo Server validates and executes against (the gateway's, once loaded). */
  schema(): GraphQLSchema | undefined;
  /** The gateway's data sources by subgraph name (the ones @apollo/gateway calls too). */
  services(): ServiceMap;
  readonly trustedDocuments: TrustedDocuments;
  readonly maxTokens: number;
  readonly operation: Pick<GatewayPluginOptions, 'analyse' | 'checks' | 'log' | 'reportDenialLogGap' | 'metrics' | 'logError'>;
  /** Counts each request answered here (gateway_compiled_operation_answers_total). */
  readonly answered: { countCompiledAnswer(): void };
}

/**
 * Compiled operations and texts that are not compiled are kept up to this many each, keyed by the
 * text's hash (never the text), and forgotten all at once past it: a caller sending ever new
 * texts, or new spellings of a registered one, costs a parse each and bounded memory. Forgetting
 * also lets a document registered by a later manifest reload be compiled.
 */
const MAX_REMEMBERED = 1000;

const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';
const GRAPHQL_RESPONSE_CONTENT_TYPE = 'application/graphql-response+json; charset=utf-8';
const CALLBACK_CONTENT_TYPE = 'application/json; callbackSpec=1.0; charset=utf-8';

/**
 * The partner API's direct answer for registered documents (requestHandler.ts's `answerDirectly`):
 * undefined leaves the request to Apollo Server.
 */
export function compiledOperations(options: CompiledOperationsOptions): (body: unknown, context: AdmittedRequest, headers: HeaderMap) => Promise<DirectAnswer | undefined> {
  const supergraph = Supergraph.build(options.supergraphSdl);
  const apiSchema = supergraph.apiSchema();
  const supergraphSchema = supergraph.schema.toGraphQLJSSchema();
  const planner = new QueryPlanner(supergraph);
  const compiled = new Map<string, CompiledOperation>();
  const misses = new Set<string>();
  const { operation: stages } = options;

  /** Compiles a text registered for the agency; anything else is not compiled, so only registered documents are kept. */
  function compile(schema: GraphQLSchema, text: string, textHash: string, operationName: string | undefined, agency: string): CompiledOperation | undefined {
    let document: DocumentNode;
    try {
      document = parse(text, { maxTokens: options.maxTokens });
    } catch {
      return undefined;
    }
    const id = documentId(document);
    if (!options.trustedDocuments.find(agency, id)) return undefined;
    // Apollo Server refuses introspection outside development, and answers it in development: its path.
    if (validate(schema, document, specifiedRules).length > 0 || usesIntrospection(document)) return undefined;
    const operation = getOperationAST(document, operationName);
    if (operation?.operation !== 'query') return undefined;
    const marked = stages.analyse(schema, document, operation).markedDocument();
    let plan: QueryPlan;
    try {
      plan = planner.buildQueryPlan(operationFromDocument(apiSchema, marked, operationName === undefined ? {} : { operationName }));
    } catch {
      return undefined;
    }
    return {
      schema,
      documentId: id,
      document,
      operation,
      documentHash: textHash,
      plan,
      operationContext: buildOperationContext({ schema, operationDocument: marked, ...(operationName === undefined ? {} : { operationName }) }),
    };
  }

  function find(schema: GraphQLSchema, text: string, operationName: string | undefined, agency: string): CompiledOperation | undefined {
    // Apollo Server's queryHash of the text: the key here, and the document hash the log records.
    const textHash = createHash('sha256').update(text).digest('hex');
    const key = operationName === undefined ? textHash : `${createHash('sha256').update(operationName).digest('hex')}\n${textHash}`;
    const known = compiled.get(key);
    if (known && known.schema === schema) return known;
    const miss = `${agency}\n${key}`;
    if (misses.has(miss)) return undefined;
    const made = compile(schema, text, textHash, operationName, agency);
    const remembered = made ? compiled : misses;
    if (remembered.size >= MAX_REMEMBERED) remembered.clear();
    if (made) compiled.set(key, made);
    else misses.add(miss);
    return made;
  }

  return async (body, context, headers) => {
    const schema = options.schema();
    const request = plainRequest(body);
    if (!schema || !request) return undefined;
    const operation = find(schema, request.query, request.operationName, context.caller.agency.id);
    // Compiled only for what the caller's agency has registered: every other document (refused in
    // production) takes Apollo Server's path. A manifest reload is seen here at once.
    if (!operation || !options.trustedDocuments.find(context.caller.agency.id, operation.documentId)) return undefined;
    const contentType = chooseContentType(headers.get('accept'));
    if (!contentType) return undefined;

    let response: GraphQLResponse;
    try {
      response = await answer(schema, operation, request.variables, context);
    } catch (error) {
      // A stage that throws (rather than refusing): Apollo Server's answer to it (errorResponse),
      // the error alone, masked, 500, without the plugin's cache-control; with the request id the
      // bridge adds to every answer of Apollo Server's that no plugin saw (requestHandler.ts).
      const formatted = formatErrors([error], context, stages);
      return {
        status: formatted.status ?? 500,
        headers: new Map([['content-type', contentType]]),
        body: `${JSON.stringify({ errors: formatted.errors, extensions: { requestId: context.requestId } })}\n`,
      };
    }
    options.answered.countCompiledAnswer();
    const single = response.body.kind === 'single' ? response.body.singleResult : { errors: [{ message: 'Internal server error.', extensions: { code: 'INTERNAL_SERVER_ERROR' } }] };
    return {
      status: response.http.status ?? 200,
      // Apollo Server's cache-control plugin writes no-store on every response the gateway gives:
      // nothing it serves is cacheable (no cache hints, and subgraph answers do not set the policy).
      headers: new Map([
        ['content-type', contentType],
        ['cache-control', 'no-store'],
      ]),
      // As Apollo Server serialises a single result: errors, data, extensions, and a newline.
      body: `${JSON.stringify({ errors: single.errors, data: single.data, extensions: single.extensions })}\n`,
    };
  };

  /** The stages of Apollo Server's path in its order: resolve and check, execute, release (gatewayPlugin.ts). */
  async function answer(schema: GraphQLSchema, operation: CompiledOperation, rawVariables: Record<string, unknown> | undefined, context: AdmittedRequest): Promise<GraphQLResponse> {
    stages.metrics.operationResolved(context, { document: operation.document, operationName: operation.operation.name?.value ?? null });
    const outcome = await resolveAndCheck(
      {
        schema,
        document: operation.document,
        operation: operation.operation,
        operationName: operation.operation.name?.value ?? null,
        documentHash: operation.documentHash,
        rawVariables,
        caller: context.caller,
        analyse: stages.analyse,
      },
      stages,
    );
    let response: GraphQLResponse;
    let checked: CheckedOperation | undefined;
    if ('refusal' in outcome) response = outcome.refusal;
    else {
      checked = outcome.checked;
      response = await execute(operation, checked, context);
    }
    await completeResponse(response, checked, context.requestId, stages);
    return response;
  }

  /** The plan's subgraph calls with the checked variables; the result as Apollo Server would hold it before willSendResponse. */
  async function execute(operation: CompiledOperation, checked: CheckedOperation, context: AdmittedRequest): Promise<GraphQLResponse> {
    // What executeQueryPlan reads of Apollo Server's request context: the variables the checks
    // coerced, the data sources' context (who asks), the metrics it notes subgraph error paths in.
    const requestContext = { request: { variables: checked.operation.variables }, context, metrics: {}, logger: undefined };
    let result: { data?: Record<string, unknown> | null; errors?: readonly unknown[]; extensions?: Record<string, unknown> };
    try {
      result = await executeQueryPlan(operation.plan, options.services(), requestContext as never, operation.operationContext, supergraphSchema, apiSchema);
    } catch (error) {
      // Apollo Server's answer to an executor that throws: the error alone, 500 unless it says otherwise.
      const formatted = formatErrors([error], context, stages);
      return { http: { status: formatted.status ?? 500, headers: new HeaderMap() }, body: { kind: 'single', singleResult: { errors: formatted.errors } } };
    }
    if (!result.errors || result.errors.length === 0) return { http: { headers: new HeaderMap() }, body: { kind: 'single', singleResult: { ...result, errors: undefined } as never } };
    const formatted = formatErrors(result.errors, context, stages);
    // Apollo Server 5 answers errors without data as a variable-coercion failure: 400.
    const status = formatted.status ?? (result.data === undefined ? 400 : undefined);
    return { http: { ...(status === undefined ? {} : { status }), headers: new HeaderMap() }, body: { kind: 'single', singleResult: { ...result, errors: formatted.errors } as never } };
  }
}

/**
 * Apollo Server's error handling for an execution result (didEncounterErrors, then
 * normalizeAndFormatErrors with the gateway's formatError): every error reported to the operator
 * unless its code is exposed, given a code, masked, its `extensions.http` status taken out.
 */
function formatErrors(errors: readonly unknown[], context: AdmittedRequest, stages: Pick<GatewayPluginOptions, 'logError'>): { errors: GraphQLFormattedError[]; status: number | undefined } {
  const graphqlErrors = errors.map(ensureGraphQLError);
  for (const error of graphqlErrors) reportUnexpected(error, context.requestId, stages.logError);
  let status: number | undefined;
  const formatted = graphqlErrors.map((error) => {
    const extensions: Record<string, unknown> = { ...error.extensions, code: error.extensions['code'] ?? 'INTERNAL_SERVER_ERROR' };
    const http = extensions['http'] as { status?: unknown; headers?: unknown } | undefined;
    if (http && typeof http === 'object' && (!('status' in http) || typeof http.status === 'number') && (!('headers' in http) || http.headers instanceof Map)) {
      if (typeof http.status === 'number') status = http.status;
      delete extensions['http'];
    }
    return maskUnexpectedError({ ...error.toJSON(), extensions });
  });
  return { errors: formatted, status };
}

function ensureGraphQLError(error: unknown): GraphQLError {
  if (error instanceof GraphQLError) return error;
  if (error instanceof Error) return new GraphQLError(error.message, { originalError: error });
  return new GraphQLError(`Unexpected error value: ${String(error)}`);
}

/** A POST body this path takes on: a query string, and variables and operationName of the types Apollo Server accepts; nothing else. */
function plainRequest(body: unknown): { query: string; variables: Record<string, unknown> | undefined; operationName: string | undefined } | undefined {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return undefined;
  const { query, variables, operationName, ...rest } = body as Record<string, unknown>;
  if (typeof query !== 'string' || Object.keys(rest).length > 0) return undefined;
  if (variables != null && (typeof variables !== 'object' || Array.isArray(variables))) return undefined;
  if (operationName != null && typeof operationName !== 'string') return undefined;
  return { query, variables: (variables ?? undefined) as Record<string, unknown> | undefined, operationName: (operationName ?? undefined) as string | undefined };
}

/** Accept headers seen, with Apollo Server's choice for each (a partner's client sends the same one every time); forgotten past this many. */
const contentTypes = new Map<string, string | null>();
const MAX_ACCEPT_HEADERS = 64;

/** Apollo Server's choice of content type for a single result (chooseContentTypeForSingleResultResponse); null where it answers 406. */
function chooseContentType(accept: string | undefined): string | null {
  if (!accept) return JSON_CONTENT_TYPE;
  let chosen = contentTypes.get(accept);
  if (chosen === undefined) {
    chosen = new Negotiator({ headers: { accept } }).mediaType([JSON_CONTENT_TYPE, GRAPHQL_RESPONSE_CONTENT_TYPE, CALLBACK_CONTENT_TYPE]) ?? null;
    if (contentTypes.size >= MAX_ACCEPT_HEADERS) contentTypes.clear();
    contentTypes.set(accept, chosen);
  }
  return chosen;
}

function usesIntrospection(document: DocumentNode): boolean {
  let found = false;
  visit(document, {
    [Kind.FIELD](node) {
      if (node.name.value === '__schema' || node.name.value === '__type') {
        found = true;
        return BREAK;
      }
      return undefined;
    },
  });
  return found;
}
