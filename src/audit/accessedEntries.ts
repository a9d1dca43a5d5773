import type { CallerContext } from '../identity/callerContext.js';
import type { AccessedField } from './collectAccessedFields.js';
import type { AccessLogEntry } from './entry.js';

/** What an agreement contributes to an entry: the legal basis and the processing-register record. */
export type LegalBasis = Pick<AccessLogEntry, 'legalBasis' | 'processingRegisterRef'>;

/** A value whose field the purpose check did not decide on (cannot happen for a checked operation; said plainly if it does). */
export const UNKNOWN_BASIS: LegalBasis = { legalBasis: 'unknown', processingRegisterRef: { recordId: 'unknown', version: '0' } };

/**
 * Entries for the personal values of one response (released or withheld). What every entry of
 * the response shares (time, caller, operation) is worked out once, not per value.
 */
export function accessedEntries(
  caller: CallerContext,
  accessed: readonly AccessedField[],
  basisOf: (coordinate: string) => LegalBasis | undefined,
  operation: { readonly operationName: string | null; readonly documentHash: string },
): AccessLogEntry[] {
  const time = new Date().toISOString();
  const clientAgency = { organisationNumber: caller.agency.organisationNumber, id: caller.agency.id };
  return accessed.map((value) => {
    const { legalBasis, processingRegisterRef } = (value.basis !== null ? basisOf(value.basis) : undefined) ?? UNKNOWN_BASIS;
    return {
      time,
      requestId: caller.requestId,
      clientAgency,
      official: caller.official,
      purpose: caller.purpose,
      legalBasis,
      processingRegisterRef,
      caseId: caller.caseId,
      subject: value.subject,
      field: value.coordinate,
      owningAgency: value.owner,
      outcome: value.outcome,
      outcomeCode: value.code,
      operationName: operation.operationName,
      documentHash: operation.documentHash,
    };
  });
}
