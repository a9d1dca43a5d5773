import type { ApolloServerPlugin } from '@apollo/server';
import type { GatewayContext } from '../gateway/gatewayContext.js';
import { documentId } from '../trusted-documents/documentId.js';
import type { TrustedDocuments } from '../trusted-documents/manifest.js';
import { annotateRequestSpan } from './tracing.js';

/** The operation label of a request that ran a document not registered for its agency. */
export const UNREGISTERED_OPERATION = 'unregistered';

export interface MetricsPluginOptions {
  /** Counts the coded errors of every response Apollo Server sends (refusals, withheld fields, faults). */
  countError(code: unknown): void;
  /** Names the request's operation for the request metrics. */
  labelOperation(requestId: string, label: string): void;
  /** The agencies' registered documents: only their operation names become label values. */
  readonly trustedDocuments?: TrustedDocuments;
}

/**
 * Counts coded errors and names each request's operation for the request metrics. A label value
 * is an operation name only when the document is registered for the calling agency: the
 * manifests are a bounded, reviewed set, while a free operation name would let any caller grow
 * the metrics without limit (and put whatever it likes in them). Anything else is `unregistered`.
 */
export function metricsPlugin(options: MetricsPluginOptions): ApolloServerPlugin<GatewayContext> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ document, operation, contextValue }) {
          const agency = contextValue.caller?.agency.id;
          // The trace names the operation and the document by its hash, never by its text.
          annotateRequestSpan(() => ({ 'graphql.document.hash': documentId(document), ...(operation?.name ? { 'graphql.operation.name': operation.name.value } : {}) }));
          // documentId is cached per parsed document, and the trusted-document check asks for it anyway.
          const registered = agency && options.trustedDocuments ? options.trustedDocuments.find(agency, documentId(document)) : undefined;
          options.labelOperation(contextValue.requestId, registered ? (operation?.name?.value ?? registered.operationName ?? 'anonymous') : UNREGISTERED_OPERATION);
        },
        async willSendResponse({ response }) {
          if (response.body.kind !== 'single') return;
          for (const error of response.body.singleResult.errors ?? []) options.countError(error.extensions?.['code']);
        },
      };
    },
  };
}
