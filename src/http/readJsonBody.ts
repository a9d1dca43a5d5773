import type { IncomingMessage } from 'node:http';
import contentType from 'content-type';
import { GatewayError } from '../errors/index.js';
import { MAX_JSON_DEPTH, nestsDeeperThan } from './jsonDepth.js';

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

/** The media types a JSON body may be labelled with (GraphQL over HTTP names both). */
const JSON_MEDIA_TYPES = new Set(['application/json', 'application/graphql-response+json']);

/**
 * The body's label, read by the `content-type` package (RFC 9110's grammar): JSON in UTF-8, or a
 * 415 naming what is wrong. application/json-seq, a list of two types, or a charset the body is
 * not read in were taken as JSON by a prefix match.
 */
function checkMediaType(header: string | undefined, required: boolean): void {
  if (header === undefined || header.trim() === '') {
    if (required) throw new GatewayError('UNSUPPORTED_MEDIA_TYPE', 'Content-Type must be application/json.');
    return;
  }
  let parsed: contentType.ParsedMediaType;
  try {
    parsed = contentType.parse(header);
  } catch {
    throw new GatewayError('UNSUPPORTED_MEDIA_TYPE', 'Content-Type is not a valid media type; it must be application/json.');
  }
  if (!JSON_MEDIA_TYPES.has(parsed.type)) throw new GatewayError('UNSUPPORTED_MEDIA_TYPE', 'Content-Type must be application/json.');
  const charset = parsed.parameters['charset'];
  if (charset !== undefined && charset.toLowerCase() !== 'utf-8') throw new GatewayError('UNSUPPORTED_MEDIA_TYPE', 'The body must be UTF-8: charset=utf-8, or no charset.');
}

/**
 * Parses a JSON request body: the one parser of every JSON route (/graphql, the audit API), so a
 * malformed body is the same BAD_REQUEST, and a body in another media type or charset the same
 * UNSUPPORTED_MEDIA_TYPE, everywhere. The error names the problem, never echoes the
 * body.
 */
export function parseJsonBody(text: string, contentType: string | undefined, rules: JsonBodyRules = {}): unknown {
  if ((rules.optional ?? true) && text.trim().length === 0) return undefined;
  checkMediaType(contentType, rules.requireContentType === true);
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
