import { documentId } from '../trusted-documents/documentId.js';
import type { TrustedDocuments } from '../trusted-documents/manifest.js';
import { documentNotRegistered } from '../trusted-documents/resolveDocumentId.js';
import { refuse, type OperationCheck } from '../pipeline/stages.js';

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
    return refuse([documentNotRegistered(id, caller)]);
  };
}
