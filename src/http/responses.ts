import type { ServerResponse } from 'node:http';
import { GatewayError, isGatewayError } from '../errors/index.js';

/** Answers a coded error as it is and anything else masked, so no internal message reaches a client. */
export function sendFailure(response: ServerResponse, error: unknown, headers: Record<string, string> = {}): void {
  sendError(response, isGatewayError(error) ? error : new GatewayError('INTERNAL_SERVER_ERROR', 'Internal server error.'), headers);
}

/**
 * Answers a coded error as JSON. The request id the answer carries (`x-request-id`, given here or
 * set on the response when the request arrived) goes into the body's `extensions` too, so a
 * refusal before execution (401, 404, 413, 429) can be quoted like any other answer.
 */
export function sendError(response: ServerResponse, error: GatewayError, headers: Record<string, string> = {}): void {
  if (response.headersSent) {
    response.destroy();
    return;
  }
  const requestId = headers['x-request-id'] || response.getHeader('x-request-id');
  response.writeHead(error.httpStatus, { 'content-type': 'application/json; charset=utf-8', ...Object.fromEntries(error.httpHeaders), ...headers });
  response.end(JSON.stringify(error.toResponseBody(typeof requestId === 'string' ? requestId : undefined)));
}

export function sendJson(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
  response.end(JSON.stringify(body));
}
