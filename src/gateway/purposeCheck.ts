import { GatewayError } from '../errors/index.js';
import { checkOperation } from '../policy/checkOperation.js';
import { collectFieldCoordinates } from '../policy/collectFieldCoordinates.js';
import type { Agreement } from '../policy/agreements.js';
import type { PersonalFieldCatalogue } from '../policy/personalFieldCatalogue.js';
import type { OperationCheck } from './plugins/operationChecksPlugin.js';

export interface PurposeCheckSources {
  catalogue(): PersonalFieldCatalogue;
  agreements(): readonly Agreement[];
  /** ISO date agreements are judged on (injectable for tests). */
  today?(): string;
}

/**
 * Adapts the policy's operation check to Apollo: every personal field the operation may request
 * must be allowed for the caller's purpose, or the whole operation is refused with one error per
 * denied field, before the query plan calls any subgraph.
 */
export function purposeCheck(sources: PurposeCheckSources): OperationCheck {
  return ({ schema, document, operation, contextValue }) => {
    const caller = contextValue.caller;
    if (!caller || !operation) return [];
    const decisions = checkOperation({
      catalogue: sources.catalogue(),
      agreements: sources.agreements(),
      clientAgency: caller.agency.id,
      purpose: caller.purpose,
      coordinates: collectFieldCoordinates(schema, document, operation),
      today: sources.today?.() ?? new Date().toISOString().slice(0, 10),
    });
    contextValue.state.decisions = decisions;
    return decisions.flatMap((decision) =>
      decision.outcome === 'allowed'
        ? []
        : [
            new GatewayError(
              decision.code,
              decision.code === 'PURPOSE_NOT_ALLOWED'
                ? `${decision.field.coordinate} may not be disclosed for purpose ${caller.purpose}: ${decision.field.owner} does not declare that purpose for it.`
                : `${decision.field.coordinate}: no agreement in force lets ${caller.agency.id} receive ${decision.field.category} data from ${decision.field.owner} for purpose ${caller.purpose}${decision.reason === 'AGREEMENT_EXPIRED' ? ' (the agreement has expired)' : decision.reason === 'AGREEMENT_NOT_YET_VALID' ? ' (the agreement is not yet valid)' : ''}.`,
              {
                field: decision.field.coordinate,
                purpose: caller.purpose,
                owner: decision.field.owner,
                category: decision.field.category,
                reason: decision.reason,
              },
            ),
          ],
    );
  };
}
