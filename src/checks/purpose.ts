import { GatewayError } from '../errors/index.js';
import { checkOperation, type FieldDecision } from '../policy/checkOperation.js';
import type { Agreement } from '../policy/agreements.js';
import type { PersonalFieldCatalogue } from '../policy/personalFieldCatalogue.js';
import type { Purpose } from '../policy/purposes.js';
import type { Denial, LegalBasis } from '../audit/accessLogEntries.js';
import type { OperationCheck, ResolvedOperation } from '../pipeline/stages.js';

export interface PurposeCheckSources {
  catalogue(): PersonalFieldCatalogue;
  agreements(): readonly Agreement[];
  /** ISO date agreements are judged on (injectable for tests). */
  today?(): string;
}

/** The purpose check's outcome for one operation, caller agency, purpose and day, under one catalogue and set of agreements. */
export interface PurposeVerdict {
  readonly catalogue: PersonalFieldCatalogue;
  readonly agreements: readonly Agreement[];
  readonly decisions: readonly FieldDecision[];
  /** The allowed decision per personal field coordinate: the legal basis of each released value. */
  readonly allowed: ReadonlyMap<string, Extract<FieldDecision, { outcome: 'allowed' }>>;
  /** The same decisions as the access log records them, built once with the verdict. */
  readonly legalBases: ReadonlyMap<string, LegalBasis>;
  /** Built once with the verdict: a refusal's errors name only fields, purpose, owner and agency, never the request. */
  readonly errors: readonly GatewayError[];
  readonly denials: readonly Denial[];
}

/** Judges an operation for its caller; the same verdict for the check and for the access log's legal bases. */
export type PurposeJudge = (operation: ResolvedOperation) => PurposeVerdict;

/** Past this many verdicts for one operation (agencies × purposes × days) they start over. */
const MAX_VERDICTS_PER_OPERATION = 256;

/**
 * The verdict depends on nothing of the request but the caller's agency and purpose: it is kept
 * per operation and reused until the day, the catalogue or the agreements (a reload) change.
 */
export function createPurposeJudge(sources: PurposeCheckSources): PurposeJudge {
  const verdicts = new WeakMap<ReadonlySet<string>, Map<string, PurposeVerdict>>();
  return ({ analysis, caller }) => {
    const coordinates = analysis.coordinates;
    const catalogue = sources.catalogue();
    const agreements = sources.agreements();
    const today = sources.today?.() ?? new Date().toISOString().slice(0, 10);
    let forOperation = verdicts.get(coordinates);
    if (!forOperation) verdicts.set(coordinates, (forOperation = new Map()));
    const key = `${caller.agency.id}\n${caller.purpose}\n${today}`;
    let verdict = forOperation.get(key);
    if (!verdict || verdict.catalogue !== catalogue || verdict.agreements !== agreements) {
      const decisions = checkOperation({ catalogue, agreements, clientAgency: caller.agency.id, purpose: caller.purpose, coordinates, today });
      const allowed = new Map<string, Extract<FieldDecision, { outcome: 'allowed' }>>();
      const legalBases = new Map<string, LegalBasis>();
      const denials: Denial[] = [];
      for (const decision of decisions) {
        if (decision.outcome === 'allowed') {
          allowed.set(decision.field.coordinate, decision);
          legalBases.set(decision.field.coordinate, legalBasisOf(decision.agreement));
        } else denials.push({ field: decision.field.coordinate, owningAgency: decision.field.owner, outcomeCode: decision.code });
      }
      verdict = { catalogue, agreements, decisions, allowed, legalBases, errors: refusals(decisions, caller.agency.id, caller.purpose), denials };
      if (forOperation.size >= MAX_VERDICTS_PER_OPERATION) forOperation.clear();
      forOperation.set(key, verdict);
    }
    return verdict;
  };
}

/**
 * Every personal field the operation may request must be allowed for the caller's purpose, or
 * the whole operation is refused with one error per denied field, before the query plan calls
 * any subgraph; each denied field is logged for each subject of the case.
 */
export function purposeCheck(judge: PurposeJudge): OperationCheck {
  return (operation) => {
    const verdict = judge(operation);
    return verdict.errors.length === 0 ? null : { errors: verdict.errors, denials: verdict.denials };
  };
}

function legalBasisOf({ legalBasis, processingRegister }: Agreement): LegalBasis {
  return { legalBasis, processingRegisterRef: { recordId: processingRegister.recordId, version: String(processingRegister.version) } };
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
