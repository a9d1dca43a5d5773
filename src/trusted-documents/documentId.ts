import { createHash } from 'node:crypto';
import { parse, type DocumentNode } from 'graphql';
import { printExecutableGraphQLDocument } from '@graphql-tools/documents';

/**
 * The normalised text of an executable document: definitions, selections and arguments sorted,
 * whitespace reduced. It is the function graphql-codegen's client preset prints persisted
 * documents with, so the id the gateway computes equals the key in codegen's
 * persisted-documents.json, and a partner may send the document as written or as codegen printed it.
 */
export function normalizeDocument(document: DocumentNode | string): string {
  return printExecutableGraphQLDocument(typeof document === 'string' ? parse(document) : document);
}

const ids = new WeakMap<DocumentNode, string>();

/**
 * `sha256:<hex>` of the normalised document text: the GraphQL-over-HTTP persisted documents
 * identifier (Appendix A, "sha256 hex document identifier"). Cached per parsed document, as Apollo
 * Server reuses the parsed document for repeated query text.
 */
export function documentId(document: DocumentNode | string): string {
  if (typeof document !== 'string') {
    const cached = ids.get(document);
    if (cached) return cached;
  }
  const id = `sha256:${createHash('sha256').update(normalizeDocument(document)).digest('hex')}`;
  if (typeof document !== 'string') ids.set(document, id);
  return id;
}

export const DOCUMENT_ID_PATTERN = /^sha256:[0-9a-f]{64}$/;
