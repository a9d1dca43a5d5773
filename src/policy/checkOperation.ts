import type { Agreement } from './agreements.js';
import { covers, isInForce } from './agreements.js';
import type { PersonalFieldCatalogue, PersonalFieldDeclaration } from './personalFieldCatalogue.js';
import type { Purpose } from './purposes.js';

export type FieldDecision =
  | { readonly outcome: 'allowed'; readonly field: PersonalFieldDeclaration; readonly agreement: Agreement }
  | {
      readonly outcome: 'denied';
      readonly field: PersonalFieldDeclaration;
      readonly code: 'PURPOSE_NOT_ALLOWED' | 'NO_AGREEMENT';
      /** Why, for the caller and the log: which rule refused. */
      readonly reason: 'PURPOSE_NOT_DECLARED' | 'NO_AGREEMENT' | 'AGREEMENT_EXPIRED' | 'AGREEMENT_NOT_YET_VALID';
    };

export interface OperationCheckInput {
  readonly catalogue: PersonalFieldCatalogue;
  readonly agreements: readonly Agreement[];
  /** Registry id of the calling agency. */
  readonly clientAgency: string;
  readonly purpose: Purpose;
  /** Field coordinates the operation may request. */
  readonly coordinates: Iterable<string>;
  /** ISO date the agreements are judged on. */
  readonly today: string;
}

/**
 * The purpose check of one operation, before any data is fetched.
 *
 * Two rules, both required for each personal field (GDPR Art. 5(1)(b), purpose limitation; and the
 * disclosing agency's duty to disclose, e.g. 110 kap. 31 § socialförsäkringsbalken, which names
 * the recipient and the purpose):
 *   1. the owning agency declared the purpose for the field (`@personal(purposes:)`);
 *   2. an agreement in force lets the calling agency receive the field's category from the
 *      owner for that purpose.
 * Non-personal fields are not checked.
 */
export function checkOperation(input: OperationCheckInput): FieldDecision[] {
  const decisions: FieldDecision[] = [];
  for (const coordinate of input.coordinates) {
    const field = input.catalogue.fields.get(coordinate);
    if (!field) continue;
    if (!field.purposes.has(input.purpose)) {
      decisions.push({ outcome: 'denied', field, code: 'PURPOSE_NOT_ALLOWED', reason: 'PURPOSE_NOT_DECLARED' });
      continue;
    }
    const candidates = input.agreements.filter((a) => covers(a, { client: input.clientAgency, owner: field.owner, category: field.category, purpose: input.purpose }));
    const inForce = candidates.find((a) => isInForce(a, input.today));
    if (inForce) {
      decisions.push({ outcome: 'allowed', field, agreement: inForce });
      continue;
    }
    const reason = candidates.length === 0 ? 'NO_AGREEMENT' : candidates.some((a) => a.validUntil < input.today) ? 'AGREEMENT_EXPIRED' : 'AGREEMENT_NOT_YET_VALID';
    decisions.push({ outcome: 'denied', field, code: 'NO_AGREEMENT', reason });
  }
  return decisions;
}
