import { HeaderMap, type ApolloServerPlugin, type GraphQLRequestContextResponseForOperation, type GraphQLResponse } from '@apollo/server';
import { GatewayError } from '../../errors/index.js';
import type { AccessLogSink } from '../../audit/accessLog.js';
import { deniedEntries } from '../../audit/deniedEntries.js';
import { accessedEntries, type LegalBasis } from '../../audit/accessedEntries.js';
import type { GatewayContext } from '../gatewayContext.js';
import type { OperationAnalyser } from '../operationAnalysis.js';
import type { OperationCheck, Refusal } from '../operationCheck.js';
import { resolveOperation, type ResolvedOperation } from '../resolvedOperation.js';
import type { PurposeJudge } from '../purposeCheck.js';

export interface OperationPipelineOptions {
  readonly analyse: OperationAnalyser;
  /** Run in this order once the operation is resolved; the first refusal stops the request. */
  readonly checks: readonly OperationCheck[];
  /** The purpose verdict the checks passed: the legal basis of every released value. */
  readonly judge: PurposeJudge;
  readonly log: AccessLogSink;
  /** A denial that could not be logged (the refusal stands: nothing was released). */
  onDenialNotLogged?(error: unknown, requestId: string): void;
}

/**
 * The operation's way through the gateway, in one place and in order:
 *
 *  1. resolve: one reading of the operation (coerced variables, conditions), which the gateway
 *     then executes with (its variables are replaced by the coerced ones);
 *  2. check: every check in order, before the query plan calls any subgraph; a refusal answers
 *     with one error per problem and is logged;
 *  3. execute: Apollo's query plan runs the document with the access log's subject markers
 *     (see markedGateway.ts);
 *  4. record: the response is read once (entries for every personal value; markers removed;
 *     values whose subject cannot be told withheld) and held until the entries are committed.
 *
 * The resolved operation lives in this request's closure: no other plugin and no context field
 * carries it between the stages.
 */
export function operationPipelinePlugin(options: OperationPipelineOptions): ApolloServerPlugin<GatewayContext> {
  return {
    async requestDidStart() {
      let resolved: ResolvedOperation | undefined;
      return {
        async responseForOperation(requestContext) {
          const outcome = resolveOperation({
            schema: requestContext.schema,
            document: requestContext.document,
            operation: requestContext.operation,
            operationName: requestContext.operationName,
            documentHash: requestContext.queryHash,
            rawVariables: requestContext.request.variables,
            caller: requestContext.contextValue.caller,
            analyse: options.analyse,
          });
          if ('errors' in outcome) return refusalResponse(outcome.errors);
          // The gateway executes exactly what was checked: graphql-js's coercion of the variables.
          requestContext.request.variables = outcome.variables as Record<string, unknown>;
          for (const check of options.checks) {
            const refusal = await check(outcome);
            if (!refusal) continue;
            await logDenials(outcome, refusal, requestContext, options);
            return refusalResponse(refusal.errors);
          }
          resolved = outcome;
          return null;
        },
        async willSendResponse(requestContext) {
          const { response, contextValue } = requestContext;
          // Incremental delivery (@defer/@stream) is not offered; a response in parts could not be
          // held until its entries are committed, so it is never released.
          if (response.body.kind !== 'single') {
            failClosed(response, new GatewayError('BAD_REQUEST', 'Incremental delivery (@defer, @stream) is not supported.'), contextValue.requestId);
            return;
          }
          const result = response.body.singleResult;
          if (!resolved) {
            // Only an operation that passed the checks executes; data without one is never released.
            if (result.data != null) failClosed(response, new GatewayError('INTERNAL_SERVER_ERROR', 'Internal server error.'), contextValue.requestId);
            return;
          }
          const operation = resolved;
          let read;
          try {
            read = operation.analysis.reader().read({ data: result.data as Record<string, unknown> | null | undefined, errors: result.errors, caseSubjects: operation.caller.subjects });
          } catch {
            failClosed(response, new GatewayError('INTERNAL_SERVER_ERROR', 'Internal server error.'), contextValue.requestId);
            return;
          }
          if (read.errors.length > 0) response.body.singleResult = { ...result, errors: [...(result.errors ?? []), ...read.errors] };
          if (read.accessed.length === 0) return;
          const allowed = options.judge(operation).allowed;
          const entries = accessedEntries(operation.caller, read.accessed, (coordinate) => basisOf(allowed.get(coordinate)), operation);
          try {
            await options.log.record(entries);
          } catch (error) {
            failClosed(response, error instanceof GatewayError ? error : new GatewayError('ACCESS_LOG_UNAVAILABLE', 'The access log is unavailable; no personal data is released.'), contextValue.requestId);
          }
        },
      };
    },
  };
}

function basisOf(decision: { readonly agreement: { readonly legalBasis: string; readonly processingRegister: { readonly recordId: string; readonly version: number } } } | undefined): LegalBasis | undefined {
  if (!decision) return undefined;
  const { legalBasis, processingRegister } = decision.agreement;
  return { legalBasis, processingRegisterRef: { recordId: processingRegister.recordId, version: String(processingRegister.version) } };
}

/** A refusal is logged before it is sent: who asked for what, and why it was turned away. */
async function logDenials(
  operation: ResolvedOperation,
  refusal: Refusal,
  requestContext: GraphQLRequestContextResponseForOperation<GatewayContext>,
  options: OperationPipelineOptions,
): Promise<void> {
  if (refusal.denials.length === 0) return;
  try {
    await options.log.record(deniedEntries(operation.caller, refusal.denials, operation));
  } catch (error) {
    // Nothing was released either way; the refusal stands and the gap is reported.
    options.onDenialNotLogged?.(error, requestContext.contextValue.requestId);
  }
}

function refusalResponse(errors: readonly GatewayError[]): GraphQLResponse {
  return {
    http: { status: Math.max(...errors.map((e) => e.httpStatus)), headers: new HeaderMap() },
    body: { kind: 'single', singleResult: { errors: errors.map((e) => e.toFormatted()) } },
  };
}

/** Replaces the whole response: data released without its entries would break the audit guarantee. */
function failClosed(response: GraphQLResponse, failure: GatewayError, requestId: string): void {
  response.body = { kind: 'single', singleResult: { errors: [failure.toFormatted()], extensions: { requestId } } };
  response.http.status = failure.httpStatus;
}
