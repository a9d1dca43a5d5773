import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { isGatewayError } from '../../src/errors/index.js';
import { parseJsonBody, readJsonBody, type JsonBodyRules } from '../../src/http/readJsonBody.js';

/** The one JSON body parser of /graphql and the audit API: the same coded refusal everywhere. */
function codeOf(run: () => unknown): string | undefined {
  try {
    run();
  } catch (error) {
    return isGatewayError(error) ? error.code : `not a GatewayError: ${String(error)}`;
  }
  return undefined;
}

describe('parsing a JSON request body', () => {
  const cases: ReadonlyArray<readonly [what: string, text: string, contentType: string | undefined, rules: JsonBodyRules, expected: unknown]> = [
    ['a JSON object', '{"query":"{ a }"}', 'application/json', {}, { query: '{ a }' }],
    ['a media type with parameters, any case', '{"a":1}', 'Application/JSON; charset=utf-8', {}, { a: 1 }],
    ['the GraphQL response media type', '{"a":1}', 'application/graphql-response+json', {}, { a: 1 }],
    ['charset=UTF-8 quoted', '{"a":1}', 'application/json; charset="UTF-8"', {}, { a: 1 }],
    ['no Content-Type where it may be left out', '{"a":1}', undefined, {}, { a: 1 }],
    ['a blank optional body, whatever its type', '  ', 'text/plain', {}, undefined],
    ['an empty optional body without a type where one is required', '', undefined, { requireContentType: true }, undefined],
  ];
  it.each(cases)('reads %s', (_what, text, contentType, rules, expected) => {
    expect(parseJsonBody(text, contentType, rules)).toEqual(expected);
  });

  const refused: ReadonlyArray<readonly [what: string, text: string, contentType: string | undefined, rules: JsonBodyRules, code: string]> = [
    ['another media type', '{"a":1}', 'text/plain', {}, 'UNSUPPORTED_MEDIA_TYPE'],
    ['a media type JSON only begins', '{"a":1}', 'application/json-seq', {}, 'UNSUPPORTED_MEDIA_TYPE'],
    ['two media types in one header', '{"a":1}', 'application/json, text/plain', {}, 'UNSUPPORTED_MEDIA_TYPE'],
    ['a charset the body is not read in', '{"a":1}', 'application/json; charset=utf-16', {}, 'UNSUPPORTED_MEDIA_TYPE'],
    ['latin1', '{"a":1}', 'application/json; charset=latin1', {}, 'UNSUPPORTED_MEDIA_TYPE'],
    ['no Content-Type where one is required', '{"a":1}', undefined, { requireContentType: true }, 'UNSUPPORTED_MEDIA_TYPE'],
    ['an empty Content-Type where one is required', '{"a":1}', '', { requireContentType: true }, 'UNSUPPORTED_MEDIA_TYPE'],
    ['a header that is no media type', '{"a":1}', '\u00e9', {}, 'UNSUPPORTED_MEDIA_TYPE'],
    ['malformed JSON', '{"a":', 'application/json', {}, 'BAD_REQUEST'],
    ['a blank body where one is required', '', 'application/json', { optional: false }, 'BAD_REQUEST'],
  ];
  it.each(refused)('refuses %s', (_what, text, contentType, rules, code) => {
    expect(codeOf(() => parseJsonBody(text, contentType, rules))).toBe(code);
  });

  it('never echoes the body in its message', () => {
    let message = '';
    try {
      parseJsonBody('{"subject":"19121212-1212"', 'application/json');
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toBe('Request body is not valid JSON.');
  });
});

function request(body: string, headers: Record<string, string>): IncomingMessage {
  return Object.assign(Readable.from([Buffer.from(body)]), { headers }) as unknown as IncomingMessage;
}

describe('reading a JSON request body', () => {
  it('reads and parses within the limit', async () => {
    expect(await readJsonBody(request('{"role":"PRIVACY_OFFICER"}', { 'content-type': 'application/json' }), 1024)).toEqual({ role: 'PRIVACY_OFFICER' });
  });

  it('refuses a body over the limit with REQUEST_TOO_LARGE, declared or streamed', async () => {
    const declared = await readJsonBody(request('{}', { 'content-type': 'application/json', 'content-length': '4096' }), 1024).catch((error: unknown) => error);
    const streamed = await readJsonBody(request(`{"a":"${'x'.repeat(2048)}"}`, { 'content-type': 'application/json' }), 1024).catch((error: unknown) => error);
    for (const error of [declared, streamed]) expect(isGatewayError(error) && error.code).toBe('REQUEST_TOO_LARGE');
  });
});
