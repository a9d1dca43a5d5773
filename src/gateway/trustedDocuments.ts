import { GatewayError } from '../errors/index.js';
import type { CallerContext } from '../identity/callerContext.js';
import { documentId } from '../trusted-documents/documentId.js';
import type { TrustedDocuments } from '../trusted-documents/manifest.js';
import { refuse, type OperationCheck } from './operationCheck.js';

/**
 * Production mode: an agency runs only documents registered for it (its manifest of trusted
 * documents), whether it sends the document text or only its id. A registered document has passed
 * the purpose check for the agency; anything else, however harmless, is refused, so what a
 * partner's systems can ask is reviewed before it reaches personal data.
 */
export function trustedDocumentCheck(documents: TrustedDocuments): OperationCheck {
  return ({ document, caller }) => {
    const id = documentId(document);
    if (documents.find(caller.agency.id, id)) return null;
    return refuse([notRegistered(id, caller)]);
  };
}

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
  if (!registered) throw notRegistered(id, caller);
  return { ...rest, query: registered.document };
}

function notRegistered(id: string, caller: CallerContext): GatewayError {
  return new GatewayError(
    'DOCUMENT_NOT_REGISTERED',
    `Document ${id} is not registered for ${caller.agency.id}; in production only registered documents run (npm run documents -- register).`,
    { documentId: id, agency: caller.agency.id },
  );
}
