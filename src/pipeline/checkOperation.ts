import { recordDenials, type DenialLogGapReporter, type LegalBasis } from '../audit/accessLogEntries.js';
import type { AccessLogSink } from '../audit/accessLog.js';
import type { CheckedOperation, OperationCheck, Refusal, ResolvedOperation } from './stages.js';

/** The checks in the order they run (src/checks/index.ts), and the legal bases the ones that passed decided on. */
export interface OperationChecks {
  readonly inOrder: readonly OperationCheck[];
  legalBases(operation: ResolvedOperation): ReadonlyMap<string, LegalBasis>;
}

/**
 * Stage 4: runs every check in order before the query plan calls any subgraph. The first refusal
 * stops the operation; an operation every check passed carries the decisions it passed with.
 */
export async function checkOperation(operation: ResolvedOperation, checks: OperationChecks): Promise<CheckedOperation | { readonly refusal: Refusal }> {
  for (const check of checks.inOrder) {
    const refusal = await check(operation);
    if (refusal) return { refusal };
  }
  return Object.freeze({ operation, legalBases: checks.legalBases(operation) });
}

/** A refusal is logged before it is sent: who asked for what, and why it was turned away (a log failure: see recordDenials). */
export async function recordRefusal(operation: ResolvedOperation, refusal: Refusal, log: AccessLogSink, reportGap: DenialLogGapReporter): Promise<void> {
  await recordDenials(log, operation.caller, operation, refusal.denials, reportGap);
}
