import type { IncomingMessage } from 'node:http';
import { GatewayError } from '../errors/index.js';

const ACCEPTABLE = new Set(['*/*', 'application/*', 'application/json', 'application/graphql-response+json']);

/**
 * Refuses, before anything runs, a request whose Accept header rules out a JSON answer. Apollo
 * Server would otherwise execute the operation (asking agencies, logging every field as released)
 * and only then find it cannot send the result: the log would record a release that never happened.
 */
export function refuseUnacceptableAccept(request: IncomingMessage): void {
  const accept = request.headers.accept;
  if (accept === undefined || accept.trim() === '') return;
  for (const range of accept.split(',')) {
    const [type = '', ...params] = range.split(';').map((part) => part.trim().toLowerCase());
    const q = params.find((p) => p.startsWith('q='));
    if (ACCEPTABLE.has(type) && (q === undefined || Number(q.slice(2)) > 0)) return;
  }
  throw new GatewayError('BAD_REQUEST', 'The Accept header must allow application/json or application/graphql-response+json.');
}
