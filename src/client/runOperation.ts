import { Kind, print, type DocumentNode } from 'graphql';
import type { AgencyClient, GraphQLResponse, QueryOptions } from './createAgencyClient.js';

/**
 * A document that carries its result and variables types: the shape of `TypedDocumentNode` from
 * @graphql-typed-document-node/core, which graphql-codegen's client preset emits, declared here so
 * the client needs no type-only dependency. `__meta__.hash` is the persisted-document id codegen adds.
 */
export interface TypedDocument<TResult, TVariables> extends DocumentNode {
  __apiType?: (variables: TVariables) => TResult;
  readonly __meta__?: { readonly hash?: string };
}

export interface RunOperationOptions extends Omit<QueryOptions, 'documentId' | 'operationName'> {
  /**
   * `text` (default) sends the printed document; `documentId` sends only codegen's hash of it,
   * which a gateway runs when the document is registered for the agency (trusted documents).
   */
  readonly send?: 'text' | 'documentId';
}

/**
 * Runs a typed operation: variables are checked against the operation's variable types at compile
 * time and the data comes back typed, so a field the caller reads but the operation does not ask
 * for fails `tsc`.
 */
export async function runOperation<TResult, TVariables extends Record<string, unknown>>(
  client: AgencyClient,
  document: TypedDocument<TResult, TVariables>,
  variables: TVariables,
  options: RunOperationOptions = {},
): Promise<GraphQLResponse<TResult> & { readonly status: number }> {
  const { send = 'text', ...queryOptions } = options;
  const operation = document.definitions.find((d) => d.kind === Kind.OPERATION_DEFINITION);
  const operationName = operation?.kind === Kind.OPERATION_DEFINITION ? operation.name?.value : undefined;
  const documentId = document.__meta__?.hash;
  if (send === 'documentId' && documentId === undefined) {
    throw new TypeError('The document has no __meta__.hash; generate it with the client preset and persistedDocuments on.');
  }
  return client.query<TResult>(send === 'documentId' ? '' : print(document), variables, {
    ...queryOptions,
    ...(operationName === undefined ? {} : { operationName }),
    ...(send === 'documentId' ? { documentId: documentId! } : {}),
  });
}
