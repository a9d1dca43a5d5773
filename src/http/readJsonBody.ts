import type { IncomingMessage } from 'node:http';
import { GatewayError } from '../errors/index.js';

/**
 * Reads a request body up to `limitBytes`. The limit is enforced while streaming, so an
 * oversized body is refused without being held in memory.
 */
export async function readBody(request: IncomingMessage, limitBytes: number): Promise<string> {
  const declared = Number(request.headers['content-length'] ?? NaN);
  if (Number.isFinite(declared) && declared > limitBytes) {
    throw new GatewayError('REQUEST_TOO_LARGE', `Request body exceeds ${limitBytes} bytes.`, { limitBytes });
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limitBytes) {
      throw new GatewayError('REQUEST_TOO_LARGE', `Request body exceeds ${limitBytes} bytes.`, { limitBytes });
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Parses a JSON body; the error names the problem, never echoes the body. */
export function parseJsonBody(text: string, contentType: string | undefined): unknown {
  if (text.length === 0) return undefined;
  if (contentType && !/^application\/(graphql-response\+)?json\b/i.test(contentType)) {
    throw new GatewayError('BAD_REQUEST', 'Content-Type must be application/json.');
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new GatewayError('BAD_REQUEST', 'Request body is not valid JSON.');
  }
}
