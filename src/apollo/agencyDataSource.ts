import { RemoteGraphQLDataSource, type GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import type { Fetcher } from '@apollo/utils.fetcher';
import { GraphQLError, Kind, parse, type DocumentNode, type GraphQLFormattedError, type SelectionSetNode } from 'graphql';
import type { IdentifiedRequest } from '../pipeline/stages.js';
import type { SubgraphRequestBody } from '../identity/gatewayContextToken.js';
import type { CircuitBreaker } from '../resilience/circuitBreaker.js';
import type { SubgraphSender } from './subgraphTransport.js';
import { injectTraceContext } from '../observability/tracing.js';

/** The content types RemoteGraphQLDataSource reads as JSON. */
const JSON_ANSWER = /^application\/(graphql-response\+)?json/;

/** GraphQLDataSourceRequestKind.INCOMING_OPERATION; the enum is not exported from the package root. */
const INCOMING_OPERATION = 'incoming operation';

type ProcessResult = Awaited<ReturnType<RemoteGraphQLDataSource['process']>>;

/** Why a subgraph call produced no data. */
export type SubgraphFailure = 'timeout' | 'unreachable' | 'bad-response' | 'refused' | 'circuit-open' | 'not-sent';

/** The gateway could not prepare a call (serialise its variables, sign its token): the agency was never asked. */
class CallNotSentError extends Error {
  constructor(readonly reason: string) {
    super(`The call was not sent: ${reason}`);
    this.name = 'CallNotSentError';
  }
}

export interface SubgraphCallObserver {
  /** Every call made for a partner request: how long it took and how it ended. */
  call(subgraph: string, outcome: 'ok' | SubgraphFailure, durationMs: number, graphqlErrors: number): void;
}

export interface AgencyDataSourceOptions {
  readonly name: string;
  readonly url: string;
  readonly fetcher: Fetcher;
  /** Signs the verified caller context for the subgraph; absent only in development mode. */
  /** `variablesJson`, when given, is `JSON.stringify(request.variables)` as the body carries it (serialised once per call). */
  readonly signContext?: (context: IdentifiedRequest, subgraph: string, request: SubgraphRequestBody, variablesJson?: string) => string;
  /** Open while the agency is failing: calls are answered at once instead of waiting out timeouts. */
  readonly breaker?: CircuitBreaker;
  readonly observer?: SubgraphCallObserver;
  /** Sends a partner request's calls (the same pool and timeout as `fetcher`); absent, RemoteGraphQLDataSource's fetch does. */
  readonly send?: SubgraphSender;
}

/**
 * A subgraph call. The caller's identity travels as a short-lived token signed by the gateway, so
 * the subgraph never has to trust headers a client could have set.
 *
 * A call that fails (timeout, refused connection, a 5xx, an open circuit) does not fail the
 * request: it answers as if the agency had returned an AGENCY_UNAVAILABLE error for each field
 * it was asked for, so the partner gets every other agency's data and one coded error per
 * missing path, naming the agency. The access log then records those fields as withheld, never
 * as released. Transport details (addresses, status lines) stay in the gateway's own log.
 */
export class AgencyDataSource extends RemoteGraphQLDataSource<IdentifiedRequest> {
  readonly #name: string;
  readonly #signContext: AgencyDataSourceOptions['signContext'];
  readonly #breaker: CircuitBreaker | undefined;
  readonly #observer: SubgraphCallObserver | undefined;
  readonly #send: SubgraphSender | undefined;

  constructor(options: AgencyDataSourceOptions) {
    super({ url: options.url, fetcher: options.fetcher });
    this.#name = options.name;
    this.#signContext = options.signContext;
    this.#breaker = options.breaker;
    this.#observer = options.observer;
    this.#send = options.send;
  }

  override willSendRequest({ request, context }: GraphQLDataSourceProcessOptions<IdentifiedRequest>): void {
    const headers = request.http?.headers;
    if (headers) this.#addCallerHeaders(context, request, headers);
  }

  #addCallerHeaders(context: unknown, request: SubgraphRequestBody, headers: { set(name: string, value: string): unknown }, variablesJson?: string): void {
    // Apollo also calls data sources outside requests (health checks) with an empty context.
    const gatewayContext = context as Partial<IdentifiedRequest>;
    if (typeof gatewayContext.requestId !== 'string') return;
    headers.set('x-request-id', gatewayContext.requestId);
    // W3C trace context: the subgraph's span joins this request's trace (no-op with tracing off).
    injectTraceContext(headers);
    // Signed last, over the request as it will be sent: the token is bound to exactly this call.
    if (this.#signContext) headers.set('authorization', `Bearer ${this.#signContext(gatewayContext as IdentifiedRequest, this.#name, request, variablesJson)}`);
  }

  /**
   * A partner request's call as RemoteGraphQLDataSource makes it (the same body, headers, and
   * errors for a status outside 2xx or a body that is not a JSON object), over the lean sender.
   */
  async #call(options: GraphQLDataSourceProcessOptions<IdentifiedRequest>, send: SubgraphSender): Promise<ProcessResult> {
    const { request } = options;
    if (!request.query) throw new Error('Missing query');
    const sent: SubgraphRequestBody = { query: request.query, variables: request.variables, operationName: request.operationName };
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    let body: string;
    try {
      // The variables are serialised once, for the body and for the context token's request hash.
      const variablesJson = request.variables === undefined ? undefined : JSON.stringify(request.variables);
      this.#addCallerHeaders(options.context, sent, { set: (name: string, value: string) => (headers[name.toLowerCase()] = value) }, variablesJson);
      body = requestBodyJson(request.query, variablesJson, request.operationName);
    } catch (error) {
      // Only the error's kind: a message could quote a variable's value.
      throw new CallNotSentError((error as Error | null)?.name ?? 'error');
    }
    const answer = await send(this.url, headers, body);
    const answered: unknown = answer.contentType && JSON_ANSWER.test(answer.contentType) ? JSON.parse(answer.text) : answer.text;
    if (answer.status < 200 || answer.status > 299) {
      throw new GraphQLError(`${answer.status}: subgraph answered with an error status`, { extensions: { response: { url: this.url, status: answer.status, body: answered } } });
    }
    if (typeof answered !== 'object' || answered === null) throw new Error('Expected a JSON object from the subgraph.');
    return answered as ProcessResult;
  }

  override async process(options: GraphQLDataSourceProcessOptions<IdentifiedRequest>): Promise<ProcessResult> {
    // Health checks and schema loading are Apollo's own calls, not a partner's: no breaker, no metrics.
    if (options.kind !== INCOMING_OPERATION) return super.process(options);
    const started = performance.now();
    if (this.#breaker && !this.#breaker.tryAcquire()) {
      this.#observer?.call(this.#name, 'circuit-open', 0, 0);
      return this.#unavailable(options, 'circuit-open');
    }
    try {
      const response = this.#send ? await this.#call(options, this.#send) : await super.process(options);
      this.#breaker?.success();
      this.#observer?.call(this.#name, 'ok', performance.now() - started, response.errors?.length ?? 0);
      return response;
    } catch (error) {
      const failure = classify(error);
      // A 4xx means the agency is up and refused this one call: it must not open the circuit,
      // or a caller could switch an agency off for everyone with a few malformed requests. Nor
      // may a call the gateway could not even prepare: the agency was never asked.
      if (failure === 'refused') this.#breaker?.success();
      else if (failure === 'not-sent') this.#breaker?.release();
      else this.#breaker?.failure();
      this.#observer?.call(this.#name, failure, performance.now() - started, 0);
      return this.#unavailable(options, failure, error);
    }
  }

  #unavailable(options: GraphQLDataSourceProcessOptions<IdentifiedRequest>, failure: SubgraphFailure, cause?: unknown): ProcessResult {
    const refusedInput = failure === 'refused' && subgraphCode(cause) === 'BAD_USER_INPUT';
    const { code, message } = refusedInput ? { code: 'BAD_USER_INPUT', message: `${this.#name} refused an argument of the operation.` } : missingAnswer(this.#name, failure);
    const extensions = { code, agency: this.#name, ...(refusedInput ? {} : { reason: failure }) };
    // The planner keeps the fetch's document only when asked to (exposeDocumentNodeInFetchNode).
    const document = ('document' in options ? options.document : undefined) ?? parseQuietly(options.request.query);
    const paths = affectedPaths(document, options.request.variables);
    const errors: GraphQLFormattedError[] = paths.length > 0 ? paths.map((path) => ({ message, path, extensions })) : [{ message, extensions }];
    return { errors } as ProcessResult;
  }
}

/** The code and message of each path a call left without an answer, by why it failed. */
function missingAnswer(agency: string, failure: SubgraphFailure): { readonly code: string; readonly message: string } {
  switch (failure) {
    case 'not-sent':
      return { code: 'INTERNAL_SERVER_ERROR', message: `The gateway could not prepare its call to ${agency}. Its fields are missing from this response.` };
    case 'circuit-open':
      return { code: 'AGENCY_UNAVAILABLE', message: `${agency} is unavailable (failing repeatedly; retried shortly). Its fields are missing from this response.` };
    default:
      return { code: 'AGENCY_UNAVAILABLE', message: `${agency} did not answer in time or could not be reached. Its fields are missing from this response.` };
  }
}

/** Past this many distinct fetch documents the remembered JSON strings start over. */
const MAX_QUERY_JSON = 1024;
const queryJsonStrings = new Map<string, string>();

/**
 * `JSON.stringify({ query, variables, operationName })`, the body RemoteGraphQLDataSource sends,
 * with the variables already serialised. A query plan sends the same few fetch documents over and
 * over: each is escaped as a JSON string once, not on every call.
 */
export function requestBodyJson(query: string, variablesJson: string | undefined, operationName: string | null | undefined): string {
  let queryJson = queryJsonStrings.get(query);
  if (queryJson === undefined) {
    queryJson = JSON.stringify(query);
    if (queryJsonStrings.size >= MAX_QUERY_JSON) queryJsonStrings.clear();
    queryJsonStrings.set(query, queryJson);
  }
  const variables = variablesJson === undefined ? '' : `,"variables":${variablesJson}`;
  const name = operationName === undefined ? '' : `,"operationName":${JSON.stringify(operationName)}`;
  return `{"query":${queryJson}${variables}${name}}`;
}

function classify(error: unknown): SubgraphFailure {
  if (error instanceof CallNotSentError) return 'not-sent';
  const status = error instanceof GraphQLError ? (error.extensions['response'] as { status?: unknown } | undefined)?.status : undefined;
  if (typeof status === 'number') return status >= 500 ? 'bad-response' : 'refused';
  const name = (error as { name?: unknown } | null)?.name;
  if (name === 'TimeoutError' || name === 'AbortError') return 'timeout';
  if (error instanceof SyntaxError) return 'bad-response';
  return 'unreachable';
}

function parseQuietly(query: string | undefined): DocumentNode | undefined {
  try {
    return query ? parse(query) : undefined;
  } catch {
    return undefined;
  }
}

function subgraphCode(error: unknown): unknown {
  const body = error instanceof GraphQLError ? (error.extensions['response'] as { body?: unknown } | undefined)?.body : undefined;
  const first = (body as { errors?: Array<{ extensions?: { code?: unknown } }> } | undefined)?.errors?.[0];
  return first?.extensions?.code;
}

/**
 * The response paths a subgraph fetch would have filled, in the subgraph's terms: each root field
 * of a root fetch, or each field of each entity of an `_entities` fetch (the gateway maps
 * `_entities.<i>` to the entity's place in the partner's response).
 */
export function affectedPaths(document: DocumentNode | undefined, variables: Record<string, unknown> | undefined): (string | number)[][] {
  const operation = document?.definitions.find((d) => d.kind === Kind.OPERATION_DEFINITION);
  if (!operation || operation.kind !== Kind.OPERATION_DEFINITION) return [];
  const fragments = new Map<string, SelectionSetNode>();
  for (const d of document?.definitions ?? []) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d.selectionSet);
  const rootKeys = responseKeys(operation.selectionSet, fragments);
  const entitiesField = operation.selectionSet.selections.find((s) => s.kind === Kind.FIELD && s.name.value === '_entities');
  if (!entitiesField || entitiesField.kind !== Kind.FIELD || !entitiesField.selectionSet) return rootKeys.map((key) => [key]);
  const representations = variables?.['representations'];
  const count = Array.isArray(representations) ? representations.length : 0;
  const entityKeys = responseKeys(entitiesField.selectionSet, fragments);
  const key = entitiesField.alias?.value ?? '_entities';
  const paths: (string | number)[][] = [];
  for (let index = 0; index < count; index++) {
    if (entityKeys.length === 0) paths.push([key, index]);
    for (const field of entityKeys) paths.push([key, index, field]);
  }
  return paths;
}

/** Response keys of a selection set, fragments flattened. */
function responseKeys(selectionSet: SelectionSetNode, fragments: ReadonlyMap<string, SelectionSetNode>, seen = new Set<string>()): string[] {
  const keys = new Set<string>();
  for (const selection of selectionSet.selections) {
    if (selection.kind === Kind.FIELD) {
      if (selection.name.value !== '__typename') keys.add(selection.alias?.value ?? selection.name.value);
      continue;
    }
    const name = selection.kind === Kind.FRAGMENT_SPREAD ? selection.name.value : undefined;
    if (name !== undefined && seen.has(name)) continue;
    const inner = name === undefined ? (selection as { selectionSet: SelectionSetNode }).selectionSet : fragments.get(name);
    if (!inner) continue;
    for (const key of responseKeys(inner, fragments, name === undefined ? seen : new Set([...seen, name]))) keys.add(key);
  }
  return [...keys];
}
