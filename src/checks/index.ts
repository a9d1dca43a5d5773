import type { GatewayMode } from '../config/gatewayConfig.js';
import type { OperationLimits } from '../config/limitsConfig.js';
import type { PersonalFieldCatalogue } from '../policy/personalFieldCatalogue.js';
import type { TrustedDocuments } from '../trusted-documents/manifest.js';
import type { OperationChecks } from '../pipeline/checkOperation.js';
import { operationLimitCheck } from './operationLimits.js';
import { trustedDocumentCheck } from './trustedDocuments.js';
import { reservedAliasCheck } from './reservedAliases.js';
import { personnummerInputCheck } from './personnummerInputs.js';
import { purposeCheck, type PurposeJudge } from './purpose.js';

export interface CheckSources {
  readonly mode: GatewayMode;
  readonly limits: OperationLimits;
  catalogue(): PersonalFieldCatalogue;
  /** The purpose verdicts, shared with the subgraph context signer's agreements and day. */
  readonly judge: PurposeJudge;
  /** Production mode runs only the documents registered here; absent: every document is unregistered. */
  readonly trustedDocuments?: TrustedDocuments | undefined;
}

/**
 * The checks every operation passes before any subgraph is called, in the order they run; the
 * first refusal stops the operation. The limits come first, so an oversized operation is refused
 * before its inputs are read and writes nothing to the access log; the checks whose refusals are
 * logged as denials (subjects outside the case, the purpose check) come last.
 */
export function operationChecks(sources: CheckSources): OperationChecks {
  return {
    inOrder: [
      operationLimitCheck({ limits: sources.limits, catalogue: sources.catalogue }),
      ...(sources.mode === 'production' && sources.trustedDocuments ? [trustedDocumentCheck(sources.trustedDocuments)] : []),
      reservedAliasCheck,
      personnummerInputCheck,
      purposeCheck(sources.judge),
    ],
    // The verdict the purpose check passed (kept per operation): the legal basis of every released value.
    legalBases: (operation) => sources.judge(operation).legalBases,
  };
}
