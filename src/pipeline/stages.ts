import type { GraphQLFormattedError } from 'graphql';
import type { Denial, LegalBasis } from '../audit/accessLogEntries.js';
import type { GatewayError } from '../errors/index.js';
import type { CallerContext } from '../identity/callerContext.js';
import type { ResolvedOperation } from './resolveOperation.js';

/*
 * A partner request's stages, each a type the next stage starts from:
 *
 *   IdentifiedRequest  pipeline/identifyRequest.ts (client certificate + bound request token)
 *   AdmittedRequest    limits/rateLimitAdmission.ts (rate limits)
 *   ResolvedOperation  pipeline/resolveOperation.ts (the one reading of the operation)
 *   CheckedOperation   pipeline/checkOperation.ts running checks/index.ts in order
 *   ExecutedOperation  apollo/ (query plan, agencyDataSource.ts, markedGateway.ts)
 *   ReleasedResponse   pipeline/releaseResponse.ts (entries committed, markers gone, or fail closed)
 *
 * apollo/partnerApi.ts runs the first two before Apollo Server parses the request; the one plugin,
 * apollo/gatewayPlugin.ts, calls the others in this order. Each stage's value is immutable and
 * passed on as a value: no stage reads another's state from anywhere else.
 */

/** Stage 1: who asks. Past identity the caller is never absent. */
export interface IdentifiedRequest {
  readonly requestId: string;
  readonly caller: CallerContext;
}

/** Stage 2: within the caller's rate limits. Apollo Server's per-request context. */
export interface AdmittedRequest extends IdentifiedRequest {
  readonly admitted: true;
}

/**
 * An identified request admitted, written out rather than as `{ ...request, admitted: true }`: on
 * Node 20 V8 builds an object spread followed by further properties through its generic path,
 * about a microsecond each on the request path (docs/performance.md).
 */
export function admitted(request: IdentifiedRequest): AdmittedRequest {
  return { requestId: request.requestId, caller: request.caller, admitted: true };
}

export type { ResolvedOperation };

/** Why an operation may not run: the errors the caller gets, and what the access log records. */
export interface Refusal {
  readonly errors: readonly GatewayError[];
  /** Entries for the log: who asked for what, and why it was refused. Empty when nothing personal was asked for. */
  readonly denials: readonly Denial[];
}

/**
 * A check of a resolved operation, run before the query plan calls any subgraph: `null` lets the
 * operation go on, a refusal stops it with every problem the check found. Checks live in
 * src/checks/, one per file, listed in the order they run in src/checks/index.ts.
 */
export type OperationCheck = (operation: ResolvedOperation) => Refusal | null | Promise<Refusal | null>;

/** A refusal from errors alone (nothing for the access log). */
export function refuse(errors: readonly GatewayError[], denials: readonly Denial[] = []): Refusal | null {
  return errors.length === 0 ? null : { errors, denials };
}

/** Stage 4: an operation every check passed, with the legal basis of each personal field it may release. */
export interface CheckedOperation {
  readonly operation: ResolvedOperation;
  /** The purpose check's allowed decision per personal field coordinate, as an entry's legal basis. */
  readonly legalBases: ReadonlyMap<string, LegalBasis>;
}

/** What the executor answered (a single result; incremental delivery is never released). */
export interface ExecutionResult {
  readonly data?: Record<string, unknown> | null;
  readonly errors?: readonly GraphQLFormattedError[];
}

/** Stage 5: the checked operation and what execution returned for it (markers still in the data). */
export interface ExecutedOperation {
  readonly checked: CheckedOperation;
  readonly result: ExecutionResult;
}

/** Stage 6: what leaves the gateway: the response with every personal value's entry committed, or a replacement without data. */
export type ReleasedResponse = { readonly kind: 'released'; readonly result: ExecutionResult } | { readonly kind: 'failed-closed'; readonly error: GatewayError };
