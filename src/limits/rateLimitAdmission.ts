import { createHash } from 'node:crypto';
import { GatewayError } from '../errors/index.js';
import type { AccessLogEntry } from '../audit/entry.js';
import { accessLogEntries, recordDenials, wholeRequestDenial, type DenialLogGapReporter, type EntryOperation } from '../audit/accessLogEntries.js';
import type { AccessLogSink } from '../audit/accessLog.js';
import type { CallerContext } from '../identity/callerContext.js';
import { admitted, type AdmittedRequest, type IdentifiedRequest } from '../pipeline/stages.js';
import type { RateLimiter } from './rateLimiter.js';

const OPERATION_NAME = /^[_A-Za-z][_0-9A-Za-z]{0,255}$/;

export interface RateLimitAdmissionOptions {
  readonly limiter: RateLimiter;
  readonly log: AccessLogSink;
  /** A RATE_LIMITED refusal whose entries the log could not take (the 429 stands). */
  readonly reportDenialLogGap: DenialLogGapReporter;
  readonly onDenied?: (caller: CallerContext, scope: 'agency' | 'official') => void;
}

/**
 * Stage 2, admission: spends one token of the caller's agency and official buckets, or refuses
 * the request with RATE_LIMITED (HTTP 429, Retry-After) before it is parsed. The refusal is
 * logged as a denial of the whole request (WHOLE_REQUEST_FIELD, one entry per subject of the
 * case), so a person's access history shows attempts that were turned away too; a log failure
 * follows the one rule for denials (recordDenials: the refusal stands, the gap is reported).
 */
export function rateLimitAdmission(options: RateLimitAdmissionOptions) {
  return async (request: IdentifiedRequest, body: unknown): Promise<AdmittedRequest> => {
    const { caller } = request;
    const decision = await options.limiter.take({ agency: caller.agency.id, official: caller.official });
    if (decision.allowed) return admitted(request);
    options.onDenied?.(caller, decision.scope);
    await recordDenials(options.log, caller, requestedOperation(body), [wholeRequestDenial('RATE_LIMITED')], options.reportDenialLogGap);
    const retryAfterSeconds = Math.max(1, Math.ceil(decision.retryAfterMs / 1000));
    throw new GatewayError(
      'RATE_LIMITED',
      decision.scope === 'agency'
        ? `Too many requests from ${caller.agency.id}; retry after ${retryAfterSeconds} s.`
        : `Too many requests from this official of ${caller.agency.id}; retry after ${retryAfterSeconds} s.`,
      { scope: decision.scope, retryAfterSeconds },
      { httpHeaders: new Map([['retry-after', String(retryAfterSeconds)]]) },
    );
  };
}

export function rateLimitedEntries(caller: CallerContext, body: unknown): AccessLogEntry[] {
  return accessLogEntries(caller, requestedOperation(body), { kind: 'denied', denials: [wholeRequestDenial('RATE_LIMITED')] });
}

/** The operation of a request refused before it was parsed, as far as its body names it. */
function requestedOperation(body: unknown): EntryOperation {
  const request = typeof body === 'object' && body !== null && !Array.isArray(body) ? (body as Record<string, unknown>) : {};
  const query = typeof request['query'] === 'string' ? request['query'] : '';
  const operationName = typeof request['operationName'] === 'string' && OPERATION_NAME.test(request['operationName']) ? request['operationName'] : null;
  return { operationName, documentHash: createHash('sha256').update(query).digest('hex') };
}
