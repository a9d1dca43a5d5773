import type { GraphQLFormattedError } from 'graphql';
import { GATEWAY_ERROR_HTTP_STATUS } from './codes.js';
import { redactValues } from './redactValues.js';

/** Codes Apollo Server itself assigns to problems with the request, safe to show as they are. */
const APOLLO_REQUEST_CODES = new Set([
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'BAD_USER_INPUT',
  'BAD_REQUEST',
  'OPERATION_RESOLUTION_FAILURE',
  'PERSISTED_QUERY_NOT_FOUND',
  'PERSISTED_QUERY_NOT_SUPPORTED',
]);

/** Where unexpected (masked) errors are reported for the operator, joined to the request id the partner quotes. */
export type ErrorLogger = (record: { requestId: string; code: string; message: string; path?: string; service?: string }) => void;

/**
 * Anything that is not one of our coded errors or a request error is masked: a partner sees a
 * generic message and the request id to quote (in the response's extensions), never a stack trace or an agency's internals.
 */
export function isExposedCode(code: unknown): code is string {
  return typeof code === 'string' && (code in GATEWAY_ERROR_HTTP_STATUS || APOLLO_REQUEST_CODES.has(code)) && code !== 'INTERNAL_SERVER_ERROR';
}

export function maskUnexpectedError(formatted: GraphQLFormattedError): GraphQLFormattedError {
  const code = formatted.extensions?.['code'];
  if (isExposedCode(code)) {
    const { stacktrace: _s, exception: _e, ...extensions } = formatted.extensions ?? {};
    // A request error's message may quote what the request carried: a personnummer, a name.
    return { ...formatted, message: redactValues(formatted.message), extensions };
  }
  return {
    message: 'Internal error; quote the request id (extensions.requestId of the response) to the gateway operator.',
    ...(formatted.path ? { path: formatted.path } : {}),
    extensions: { code: 'INTERNAL_SERVER_ERROR' },
  };
}
