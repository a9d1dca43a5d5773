import { createHash } from 'node:crypto';
import { GatewayError } from '../errors/index.js';
import { GATEWAY_AGENCY_ID, WHOLE_REQUEST_FIELD, type AccessLogEntry } from '../audit/entry.js';
import type { CallerContext } from '../identity/callerContext.js';
import { deniedEntries } from '../audit/deniedEntries.js';
import type { AccessLogSink } from '../audit/accessLog.js';
import type { RateLimiter } from './rateLimiter.js';

const OPERATION_NAME = /^[_A-Za-z][_0-9A-Za-z]{0,255}$/;

export { GATEWAY_AGENCY_ID };

/**
 * Spends one token of the caller's agency and official buckets, or refuses the request with
 * RATE_LIMITED (HTTP 429, Retry-After) before it is parsed. The refusal is logged as a denial: one
 * entry per subject of the case, field WHOLE_REQUEST_FIELD (the request was refused before its
 * fields were read), so a person's access history shows attempts that were turned away too. The
 * entries go through the same group commit as any other; if the log cannot take them, the caller
 * still gets its 429 (nothing is released either way).
 */
export function rateLimitAdmission(options: { readonly limiter: RateLimiter; readonly log: AccessLogSink; readonly onDenied?: (caller: CallerContext, scope: 'agency' | 'official') => void }) {
  return async (caller: CallerContext, body: unknown): Promise<void> => {
    const decision = await options.limiter.take({ agency: caller.agency.id, official: caller.official });
    if (decision.allowed) return;
    options.onDenied?.(caller, decision.scope);
    try {
      await options.log.record(rateLimitedEntries(caller, body));
    } catch {
      // The 429 stands without its entry: nothing was disclosed, and failing the log must not turn a refusal into a 503.
    }
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
  const request = typeof body === 'object' && body !== null && !Array.isArray(body) ? (body as Record<string, unknown>) : {};
  const query = typeof request['query'] === 'string' ? request['query'] : '';
  const operationName = typeof request['operationName'] === 'string' && OPERATION_NAME.test(request['operationName']) ? request['operationName'] : null;
  return deniedEntries(caller, [{ field: WHOLE_REQUEST_FIELD, owningAgency: GATEWAY_AGENCY_ID, outcomeCode: 'RATE_LIMITED' }], {
    operationName,
    documentHash: createHash('sha256').update(query).digest('hex'),
  });
}
