import { HeaderMap, type ApolloServerPlugin, type GraphQLResponse } from '@apollo/server';
import type { DocumentNode, GraphQLError } from 'graphql';
import { GatewayError } from '../errors/index.js';
import type { AccessLogSink } from '../audit/accessLog.js';
import type { DenialLogGapReporter } from '../audit/accessLogEntries.js';
import { documentRefusal, type DocumentRefusalOptions } from '../limits/documentRefusals.js';
import type { OperationAnalyser } from '../pipeline/operationAnalysis.js';
import { resolveOperation, type ResolveInput } from '../pipeline/resolveOperation.js';
import { checkOperation, recordRefusal, type OperationChecks } from '../pipeline/checkOperation.js';
import { releaseResponse, releaseUnchecked } from '../pipeline/releaseResponse.js';
import type { AdmittedRequest, CheckedOperation, ReleasedResponse } from '../pipeline/stages.js';
import { isExposedCode, type ErrorLogger } from '../errors/maskErrors.js';
import { redactValues } from '../errors/redactValues.js';

/** What the request metrics learn of each operation response (operationMetrics.ts). */
export interface ResponseMetrics {
  /** Once the operation is known, before it is checked: names it for the request metrics and the trace. */
  operationResolved(request: AdmittedRequest, operation: { readonly document: DocumentNode; readonly operationName: string | null }): void;
  /** Counts the coded errors of the response as it leaves. */
  responseSent(errors: readonly { readonly extensions?: Readonly<Record<string, unknown>> }[]): void;
}

export interface GatewayPluginOptions {
  readonly analyse: OperationAnalyser;
  readonly checks: OperationChecks;
  readonly log: AccessLogSink;
  /** A refusal whose entries the log could not take (the refusal stands). */
  readonly reportDenialLogGap: DenialLogGapReporter;
  readonly documents: DocumentRefusalOptions;
  readonly metrics: ResponseMetrics;
  /** Unexpected errors (masked for the partner), joined to the request id. */
  readonly logError: ErrorLogger;
}

/**
 * The one plugin of the partner API: Apollo Server's hooks call the pipeline's stages
 * (src/pipeline/stages.ts), and nothing else of the gateway runs inside Apollo Server:
 *
 *  - before execution (responseForOperation): resolve the operation once, then run the checks in
 *    order; a refusal is logged and answered without calling any subgraph;
 *  - execution: Apollo's query plan with the subject markers (markedGateway.ts);
 *  - as the response leaves (willSendResponse), in this order: collect and record the entries,
 *    release or fail closed (markers stripped, data replaced), name the request, count metrics.
 *
 * The checked operation lives in this request's closure: no context field or other plugin carries it.
 */
export function gatewayPlugin(options: GatewayPluginOptions): ApolloServerPlugin<AdmittedRequest> {
  return {
    async requestDidStart() {
      let checked: CheckedOperation | undefined;
      let documentRefused: GatewayError | undefined;
      return {
        async parsingDidStart({ source }) {
          return async (error) => {
            if (error) documentRefused = documentRefusal.whenParseFailed(source, options.documents);
          };
        },
        async validationDidStart({ schema, document }) {
          return async (errors) => {
            if (errors && errors.length > 0) documentRefused = documentRefusal.whenInvalid(schema, document, options.documents);
          };
        },
        async responseForOperation(requestContext) {
          const { contextValue } = requestContext;
          options.metrics.operationResolved(contextValue, { document: requestContext.document, operationName: requestContext.operation?.name?.value ?? null });
          const outcome = await resolveAndCheck(
            {
              schema: requestContext.schema,
              document: requestContext.document,
              operation: requestContext.operation,
              // The name the request gave (Apollo's own operationName is the resolved operation's, null when none matched, which read as "several operations").
              operationName: requestContext.request.operationName ?? requestContext.operationName,
              documentHash: requestContext.queryHash,
              rawVariables: requestContext.request.variables,
              caller: contextValue.caller,
              analyse: options.analyse,
            },
            options,
          );
          if ('refusal' in outcome) return outcome.refusal;
          // The gateway executes exactly what was checked: graphql-js's coercion of the variables.
          requestContext.request.variables = outcome.checked.operation.variables as Record<string, unknown>;
          checked = outcome.checked;
          return null;
        },
        async didEncounterErrors({ errors, contextValue }) {
          for (const error of errors) reportUnexpected(error, contextValue.requestId, options.logError);
        },
        async willSendResponse({ response, contextValue }) {
          if (documentRefused) replaceBody(response, documentRefused);
          await completeResponse(response, checked, contextValue.requestId, options);
        },
      };
    },
  };
}

/**
 * Before execution: the operation resolved once, then every check in order; a refusal is logged
 * and answered without calling any subgraph. Both paths (Apollo Server's, compiledOperations.ts) start here.
 */
export async function resolveAndCheck(
  input: ResolveInput,
  options: Pick<GatewayPluginOptions, 'checks' | 'log' | 'reportDenialLogGap'>,
): Promise<{ readonly checked: CheckedOperation } | { readonly refusal: GraphQLResponse }> {
  const resolved = resolveOperation(input);
  if ('errors' in resolved) return { refusal: refusalResponse(resolved.errors) };
  const outcome = await checkOperation(resolved, options.checks);
  if ('refusal' in outcome) {
    await recordRefusal(resolved, outcome.refusal, options.log, options.reportDenialLogGap);
    return { refusal: refusalResponse(outcome.refusal.errors) };
  }
  return { checked: outcome };
}

/**
 * The response as it leaves, in this order: release or fail closed (entries committed, markers
 * stripped, data replaced), the request id, metrics. Apollo Server's path (willSendResponse) and
 * the compiled operations' path (compiledOperations.ts) both end here.
 */
export async function completeResponse(response: GraphQLResponse, checked: CheckedOperation | undefined, requestId: string, options: Pick<GatewayPluginOptions, 'log' | 'metrics'>): Promise<void> {
  // Incremental delivery (@defer/@stream) is not offered; a response in parts could not be
  // held until its entries are committed, so it is never released.
  const released: ReleasedResponse =
    response.body.kind !== 'single'
      ? { kind: 'failed-closed', error: new GatewayError('BAD_REQUEST', 'Incremental delivery (@defer, @stream) is not supported.') }
      : checked
        ? await releaseResponse({ checked, result: response.body.singleResult }, options.log)
        : releaseUnchecked(response.body.singleResult);
  if (released.kind === 'failed-closed') replaceBody(response, released.error, { requestId });
  else if (response.body.kind === 'single') response.body.singleResult = { ...response.body.singleResult, ...released.result };
  if (response.body.kind !== 'single') return;
  // The partner's log and ours are joined on the request id (the transport sets x-request-id too).
  response.body.singleResult.extensions = { ...response.body.singleResult.extensions, requestId };
  options.metrics.responseSent(response.body.singleResult.errors ?? []);
}

/**
 * Unexpected errors are masked for partners; the operator sees them here, joined to the request
 * id the partner quotes. Messages are ours or a subgraph's, which never carry personal values.
 */
export function reportUnexpected(error: GraphQLError, requestId: string, log: ErrorLogger): void {
  const code = error.extensions?.['code'];
  if (isExposedCode(code)) return;
  log({
    requestId,
    code: typeof code === 'string' ? code : 'INTERNAL_SERVER_ERROR',
    // The operator's log holds no personal data either: an unexpected error may quote a value too.
    message: redactValues(error.originalError?.message ?? error.message),
    ...(error.path ? { path: error.path.join('.') } : {}),
    ...(typeof error.extensions?.['serviceName'] === 'string' ? { service: error.extensions['serviceName'] } : {}),
  });
}

export function refusalResponse(errors: readonly GatewayError[]): GraphQLResponse {
  return {
    http: { status: Math.max(...errors.map((e) => e.httpStatus)), headers: new HeaderMap() },
    body: { kind: 'single', singleResult: { errors: errors.map((e) => e.toFormatted()) } },
  };
}

/** Replaces the whole response with one error, keeping its extensions unless told otherwise. */
function replaceBody(response: GraphQLResponse, error: GatewayError, extensions?: Record<string, unknown>): void {
  const kept = extensions ?? (response.body.kind === 'single' ? response.body.singleResult.extensions : undefined);
  response.body = { kind: 'single', singleResult: { errors: [error.toFormatted()], ...(kept ? { extensions: kept } : {}) } };
  response.http.status = error.httpStatus;
}
