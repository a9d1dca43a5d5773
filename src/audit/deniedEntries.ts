import type { CallerContext } from '../identity/callerContext.js';
import type { AccessLogEntry } from './entry.js';

/** What a refusal says about itself: which field (or the whole request), whose, and why. */
export interface Denial {
  readonly field: string;
  readonly owningAgency: string;
  readonly outcomeCode: string;
  /** The one person it concerns (a personnummer asked about that is not a subject of the case); absent: every subject of the case. */
  readonly subject?: string;
}

/**
 * Entries for a refusal: one per denial per subject of the case, so a person's access history
 * also shows what was asked for about them and turned away. Nothing was disclosed, so no
 * agreement's legal basis applies.
 */
export function deniedEntries(
  caller: CallerContext,
  denials: readonly Denial[],
  operation: { readonly operationName: string | null; readonly documentHash: string },
): AccessLogEntry[] {
  const time = new Date().toISOString();
  const caseSubjects: readonly (string | null)[] = caller.subjects.length > 0 ? caller.subjects : [null];
  return denials.flatMap((denial) =>
    (denial.subject !== undefined ? [denial.subject] : caseSubjects).map((subject) => ({
      time,
      requestId: caller.requestId,
      clientAgency: { organisationNumber: caller.agency.organisationNumber, id: caller.agency.id },
      official: caller.official,
      purpose: caller.purpose,
      legalBasis: 'none (denied before disclosure)',
      processingRegisterRef: { recordId: 'none', version: '0' },
      caseId: caller.caseId,
      subject,
      field: denial.field,
      owningAgency: denial.owningAgency,
      outcome: 'denied' as const,
      outcomeCode: denial.outcomeCode,
      operationName: operation.operationName,
      documentHash: operation.documentHash,
    })),
  );
}
