import type { IncomingMessage } from 'node:http';
import { GatewayError } from '../errors/index.js';
import { refuseUnacceptableAccept } from './acceptHeader.js';

/**
 * One HTTP request carries one operation. A batch (a JSON array of operations) would share one
 * request token, one rate-limit token and one access-log request id among many operations, and
 * let a caller multiply person reads past the per-operation limits. Apollo Server refuses batches
 * too (allowBatchedHttpRequests is false), but with a generic BAD_REQUEST; this gives the code.
 */
export function refuseBatchedRequest(body: unknown): void {
  if (Array.isArray(body)) {
    throw new GatewayError('BATCHING_NOT_ALLOWED', 'Batched requests are not accepted: send each operation in its own request, with its own request token.');
  }
}

/** Everything refused from the HTTP request alone, before identity and parsing. */
export function refuseUnservableRequest(body: unknown, request: IncomingMessage): void {
  refuseBatchedRequest(body);
  refuseUnacceptableAccept(request);
}
