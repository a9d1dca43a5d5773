import { GatewayError } from '../errors/index.js';
import { checkOperation, type FieldDecision } from '../policy/checkOperation.js';
import type { Agreement } from '../policy/agreements.js';
import type { PersonalFieldCatalogue } from '../policy/personalFieldCatalogue.js';
import type { Purpose } from '../policy/purposes.js';
import type { OperationAnalyser } from './operationAnalysis.js';
import type { OperationCheck } from './plugins/operationChecksPlugin.js';

export interface PurposeCheckSources {
  catalogue(): PersonalFieldCatalogue;
  agreements(): readonly Agreement[];
  /** ISO date agreements are judged on (injectable for tests). */
  today?(): string;
  readonly analyse: OperationAnalyser;
}

/** The check's outcome for one operation, caller agency, purpose and day, under one catalogue and set of agreements. */
interface Verdict {
  readonly catalogue: PersonalFieldCatalogue;
  readonly agreements: readonly Agreement[];
  readonly decisions: readonly FieldDecision[];
  /** Built once with the verdict: a refusal's errors name only fields, purpose, owner and agency, never the request. */
  readonly errors: readonly GatewayError[];
}

/** Past this many verdicts for one operation (agencies × purposes × days) they start over. */
const MAX_VERDICTS_PER_OPERATION = 256;

/**
 * Adapts the policy's operation check to Apollo: every personal field the operation may request
 * must be allowed for the caller's purpose, or the whole operation is refused with one error per
 * denied field, before the query plan calls any subgraph.
 *
 * The verdict depends on nothing of the request but the caller's agency and purpose: it is kept
 * per operation and reused until the day, the catalogue or the agreements (a reload) change.
 */
export function purposeCheck(sources: PurposeCheckSources): OperationCheck {
  const verdicts = new WeakMap<ReadonlySet<string>, Map<string, Verdict>>();
  return ({ schema, document, operation, contextValue }) => {
    const caller = contextValue.caller;
    if (!caller || !operation) return [];
    const coordinates = sources.analyse(schema, document, operation).coordinates;
    const catalogue = sources.catalogue();
    const agreements = sources.agreements();
    const today = sources.today?.() ?? new Date().toISOString().slice(0, 10);
    let forOperation = verdicts.get(coordinates);
    if (!forOperation) verdicts.set(coordinates, (forOperation = new Map()));
    const key = `${caller.agency.id}\n${caller.purpose}\n${today}`;
    let verdict = forOperation.get(key);
    if (!verdict || verdict.catalogue !== catalogue || verdict.agreements !== agreements) {
      const decisions = checkOperation({ catalogue, agreements, clientAgency: caller.agency.id, purpose: caller.purpose, coordinates, today });
      verdict = { catalogue, agreements, decisions, errors: refusals(decisions, caller.agency.id, caller.purpose) };
      if (forOperation.size >= MAX_VERDICTS_PER_OPERATION) forOperation.clear();
      forOperation.set(key, verdict);
    }
    contextValue.state.decisions = verdict.decisions;
    return verdict.errors;
  };
}

function refusals(decisions: readonly FieldDecision[], agency: string, purpose: Purpose): GatewayError[] {
  return decisions.flatMap((decision) =>
    decision.outcome === 'allowed'
      ? []
      : [
          new GatewayError(
            decision.code,
            decision.code === 'PURPOSE_NOT_ALLOWED'
              ? `${decision.field.coordinate} may not be disclosed for purpose ${purpose}: ${decision.field.owner} does not declare that purpose for it.`
              : `${decision.field.coordinate}: no agreement in force lets ${agency} receive ${decision.field.category} data from ${decision.field.owner} for purpose ${purpose}${decision.reason === 'AGREEMENT_EXPIRED' ? ' (the agreement has expired)' : decision.reason === 'AGREEMENT_NOT_YET_VALID' ? ' (the agreement is not yet valid)' : ''}.`,
            {
              field: decision.field.coordinate,
              purpose,
              owner: decision.field.owner,
              category: decision.field.category,
              reason: decision.reason,
            },
          ),
        ],
  );
}
