import type { DocumentNode } from 'graphql';
import { documentId } from '../trusted-documents/documentId.js';
import type { TrustedDocuments } from '../trusted-documents/manifest.js';
import type { AdmittedRequest } from '../pipeline/stages.js';
import { annotateRequestSpan } from '../observability/tracing.js';
import type { ResponseMetrics } from './gatewayPlugin.js';

/** The operation label of a request that ran a document not registered for its agency. */
export const UNREGISTERED_OPERATION = 'unregistered';

/** Where the request metrics are kept (observability/gatewayOperations.ts). */
export interface OperationMetricsSink {
  /** Counts the coded errors of every response Apollo Server sends (refusals, withheld fields, faults). */
  countError(code: unknown): void;
  /** Names the request's operation for the request metrics. */
  labelOperation(requestId: string, label: string): void;
}

/**
 * Counts coded errors and names each request's operation for the request metrics. A label value
 * is an operation name only when the document is registered for the calling agency: the
 * manifests are a bounded, reviewed set, while a free operation name would let any caller grow
 * the metrics without limit (and put whatever it likes in them). Anything else is `unregistered`,
 * as is every operation when no documents are registered.
 */
export function operationMetrics(sink: OperationMetricsSink, trustedDocuments: TrustedDocuments | undefined): ResponseMetrics {
  return {
    operationResolved(request: AdmittedRequest, { document, operationName }: { readonly document: DocumentNode; readonly operationName: string | null }) {
      // The trace names the operation and the document by its hash, never by its text.
      annotateRequestSpan(() => ({ 'graphql.document.hash': documentId(document), ...(operationName ? { 'graphql.operation.name': operationName } : {}) }));
      // documentId is cached per parsed document, and the trusted-document check asks for it anyway.
      const registered = trustedDocuments?.find(request.caller.agency.id, documentId(document));
      sink.labelOperation(request.requestId, registered ? (operationName ?? registered.operationName ?? 'anonymous') : UNREGISTERED_OPERATION);
    },
    responseSent(errors) {
      for (const error of errors) sink.countError(error.extensions?.['code']);
    },
  };
}
