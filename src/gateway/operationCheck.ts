import type { Denial } from '../audit/deniedEntries.js';
import type { GatewayError } from '../errors/index.js';
import type { ResolvedOperation } from './resolvedOperation.js';

/** Why an operation may not run: the errors the caller gets, and what the access log records. */
export interface Refusal {
  readonly errors: readonly GatewayError[];
  /** Entries for the log: who asked for what, and why it was refused. Empty when nothing personal was asked for. */
  readonly denials: readonly Denial[];
}

/**
 * A check of a resolved operation, run before the query plan calls any subgraph: `null` lets the
 * operation go on, a refusal stops it with every problem the check found.
 */
export type OperationCheck = (operation: ResolvedOperation) => Refusal | null | Promise<Refusal | null>;

/** A refusal from errors alone (nothing for the access log). */
export function refuse(errors: readonly GatewayError[], denials: readonly Denial[] = []): Refusal | null {
  return errors.length === 0 ? null : { errors, denials };
}
