import type { ApolloServerPlugin, GraphQLRequestContextWillSendResponse } from '@apollo/server';
import type { DocumentNode } from 'graphql';
import { GatewayError, type GatewayErrorCode } from '../../errors/index.js';
import type { AccessLogEntry } from '../../audit/entry.js';
import { deniedEntries } from '../../audit/deniedEntries.js';
import { collectAccessedFields, type AccessedField } from '../../audit/collectAccessedFields.js';
import { stripSubjectMarkers } from '../../audit/subjectMarkers.js';
import type { PersonalFieldCatalogue } from '../../policy/personalFieldCatalogue.js';
import type { FieldDecision } from '../../policy/checkOperation.js';
import type { GatewayContext } from '../gatewayContext.js';
import type { CallerContext } from '../../identity/callerContext.js';
import type { OperationAnalyser } from '../operationAnalysis.js';

export interface AccessLogSink {
  /** Resolves once the entries are committed durably; rejects with ACCESS_LOG_UNAVAILABLE otherwise. */
  record(entries: readonly AccessLogEntry[]): Promise<unknown>;
}

export interface AccessLogPluginOptions {
  readonly log: AccessLogSink;
  catalogue(): PersonalFieldCatalogue;
  /** The operation's marked document and access plan, worked out once per document. */
  readonly analyse: OperationAnalyser;
}

const originalDocuments = new WeakMap<GatewayContext, DocumentNode>();

/**
 * Writes an access-log entry for every personal field value of a response and holds the response
 * until they are committed. Data released without an entry would break the audit guarantee, so a
 * failed or too slow commit replaces the whole response with ACCESS_LOG_UNAVAILABLE.
 */
export function accessLogPlugin(options: AccessLogPluginOptions): ApolloServerPlugin<GatewayContext> {
  return {
    async requestDidStart() {
      return {
        async executionDidStart(requestContext) {
          const { schema, document, operation } = requestContext;
          if (options.catalogue().subjectTypes.size === 0 || !operation) return;
          originalDocuments.set(requestContext.contextValue, document);
          (requestContext as { document: DocumentNode }).document = options.analyse(schema, document, operation).markedDocument();
        },
        async willSendResponse(requestContext) {
          const { response, contextValue } = requestContext;
          if (response.body.kind !== 'single') return;
          const caller = contextValue.caller;
          const document = originalDocuments.get(contextValue);
          const result = response.body.singleResult;
          if (!caller || !document || !requestContext.operation) return;
          const analysis = options.analyse(requestContext.schema, document, requestContext.operation);
          const accessed = collectAccessedFields({
            plan: analysis.accessPlan(requestContext.request.variables ?? {}),
            data: result.data as Record<string, unknown> | null | undefined,
            errors: result.errors,
          });
          stripSubjectMarkers(result.data);
          if (accessed.length === 0) return;
          const entries = releasedEntries(requestContext, caller, accessed);
          try {
            await options.log.record(entries);
          } catch (error) {
            const failure = error instanceof GatewayError ? error : new GatewayError('ACCESS_LOG_UNAVAILABLE', 'The access log is unavailable; no personal data is released.');
            response.body = { kind: 'single', singleResult: { errors: [failure.toFormatted()], extensions: { requestId: contextValue.requestId } } };
            response.http.status = failure.httpStatus;
          }
        },
      };
    },
  };
}

/** Entries for an operation refused by the purpose check: each denied field, for each subject of the case. */
export function denialEntries(
  requestContext: { readonly contextValue: GatewayContext; readonly operationName?: string | null | undefined; readonly queryHash?: string | undefined },
  errors: readonly GatewayError[],
): AccessLogEntry[] {
  const caller = requestContext.contextValue.caller;
  if (!caller) return [];
  const decisions = requestContext.contextValue.state.decisions ?? [];
  const denied = decisions.filter((d): d is Extract<FieldDecision, { outcome: 'denied' }> => d.outcome === 'denied');
  if (denied.length === 0 || errors.length === 0) return [];
  return deniedEntries(
    caller,
    denied.map((decision) => ({ field: decision.field.coordinate, owningAgency: decision.field.owner, outcomeCode: decision.code })),
    { operationName: requestContext.operationName ?? null, documentHash: requestContext.queryHash ?? '' },
  );
}

/**
 * Entries for the personal values of one response. What every entry of the response shares (time,
 * caller, operation, the agreement per field) is worked out once, not per value.
 */
function releasedEntries(requestContext: GraphQLRequestContextWillSendResponse<GatewayContext>, caller: CallerContext, accessed: readonly AccessedField[]): AccessLogEntry[] {
  const basis = new Map<string, Pick<AccessLogEntry, 'legalBasis' | 'processingRegisterRef'>>();
  for (const decision of requestContext.contextValue.state.decisions ?? []) {
    if (decision.outcome !== 'allowed') continue;
    const { legalBasis, processingRegister } = decision.agreement;
    basis.set(decision.field.coordinate, { legalBasis, processingRegisterRef: { recordId: processingRegister.recordId, version: String(processingRegister.version) } });
  }
  const time = new Date().toISOString();
  const requestId = requestContext.contextValue.requestId;
  const clientAgency = { organisationNumber: caller.agency.organisationNumber, id: caller.agency.id };
  const operationName = requestContext.operationName ?? null;
  const documentHash = requestContext.queryHash ?? '';
  return accessed.map((value) => {
    const { legalBasis, processingRegisterRef } = basis.get(value.field.coordinate) ?? UNKNOWN_BASIS;
    return {
      time,
      requestId,
      clientAgency,
      official: caller.official,
      purpose: caller.purpose,
      legalBasis,
      processingRegisterRef,
      caseId: caller.caseId,
      subject: value.subject,
      field: value.field.coordinate,
      owningAgency: value.field.owner,
      outcome: value.outcome,
      outcomeCode: value.code as GatewayErrorCode | null,
      operationName,
      documentHash,
    };
  });
}

/** A value of a field the purpose check did not decide on (cannot happen for a checked operation; said plainly if it does). */
const UNKNOWN_BASIS: Pick<AccessLogEntry, 'legalBasis' | 'processingRegisterRef'> = { legalBasis: 'unknown', processingRegisterRef: { recordId: 'unknown', version: '0' } };
