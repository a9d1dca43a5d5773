import { GatewayError } from '../errors/index.js';
import type { CallerContext } from '../identity/callerContext.js';
import type { TrustedDocuments } from './manifest.js';

/**
 * A request naming a registered document by id (GraphQL over HTTP, Appendix A "Persisted
 * Documents": `{ "documentId": "sha256:…", "variables": … }`) becomes an ordinary request with the
 * agency's registered text, before Apollo Server parses it. Only the caller's own manifest is
 * consulted, so an agency cannot run, or learn of, another agency's documents.
 */
export function resolveDocumentId(body: unknown, caller: CallerContext, documents: TrustedDocuments): unknown {
  if (typeof body !== 'object' || body === null || Array.isArray(body) || !('documentId' in body)) return body;
  const { documentId: id, ...rest } = body as Record<string, unknown>;
  if (typeof id !== 'string') throw new GatewayError('BAD_REQUEST', 'documentId must be a string "sha256:<hex>".');
  if (rest['query'] !== undefined) throw new GatewayError('BAD_REQUEST', 'Send either documentId or query, not both.');
  const registered = documents.find(caller.agency.id, id);
  if (!registered) throw documentNotRegistered(id, caller);
  return { ...rest, query: registered.document };
}

/** The refusal of a document the caller's agency has not registered, by id or by text. */
export function documentNotRegistered(id: string, caller: CallerContext): GatewayError {
  return new GatewayError('DOCUMENT_NOT_REGISTERED', `Document ${id} is not registered for ${caller.agency.id}; in production only registered documents run (npm run documents -- register).`, {
    documentId: id,
    agency: caller.agency.id,
  });
}
