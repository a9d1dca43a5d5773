import type { IncomingMessage } from 'node:http';
import { GatewayError } from '../errors/index.js';
import { MAX_JSON_DEPTH, nestsDeeperThan } from '../limits/jsonDepth.js';

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

export interface JsonBodyRules {
  /** A blank body is no body (`undefined`), not malformed JSON: POST /graphql leaves it to Apollo, POST /audit/session takes the first role. Default true. */
  readonly optional?: boolean;
  /** A body without a Content-Type header is refused instead of being read as JSON. Default false. */
  readonly requireContentType?: boolean;
}

const JSON_MEDIA_TYPE = /^application\/(graphql-response\+)?json\b/i;

/**
 * Parses a JSON request body: the one parser of every JSON route (/graphql, the audit API), so a
 * malformed body is the same BAD_REQUEST everywhere. The error names the problem, never echoes the
 * body.
 */
export function parseJsonBody(text: string, contentType: string | undefined, rules: JsonBodyRules = {}): unknown {
  if ((rules.optional ?? true) && text.trim().length === 0) return undefined;
  if (!contentType ? rules.requireContentType === true : !JSON_MEDIA_TYPE.test(contentType)) {
    throw new GatewayError('BAD_REQUEST', 'Content-Type must be application/json.');
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text) as unknown;
  } catch {
    throw new GatewayError('BAD_REQUEST', 'Request body is not valid JSON.');
  }
  if (nestsDeeperThan(parsed, MAX_JSON_DEPTH)) throw new GatewayError('BAD_REQUEST', `Request body nests arrays and objects deeper than ${MAX_JSON_DEPTH} levels.`, { limit: MAX_JSON_DEPTH });
  return parsed;
}

/** Reads and parses a JSON request body in one step, with the limit and rules of both. */
export async function readJsonBody(request: IncomingMessage, limitBytes: number, rules: JsonBodyRules = {}): Promise<unknown> {
  return parseJsonBody(await readBody(request, limitBytes), request.headers['content-type'], rules);
}
