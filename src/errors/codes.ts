/**
 * Every error code the gateway and its subgraphs can return in `extensions.code`.
 * Clients switch on these; the message text is for humans and may change.
 */
export const GATEWAY_ERROR_HTTP_STATUS = {
  // input
  BAD_USER_INPUT: 400,
  GRAPHQL_PARSE_FAILED: 400,
  GRAPHQL_VALIDATION_FAILED: 400,
  BAD_REQUEST: 400,
  /** operationName names no operation of the document, or the document has several and none is named. */
  OPERATION_RESOLUTION_FAILURE: 400,
  // identity (401)
  CLIENT_CERTIFICATE_REQUIRED: 401,
  CLIENT_CERTIFICATE_INVALID: 401,
  CLIENT_CERTIFICATE_REVOKED: 401,
  CLIENT_CERTIFICATE_EXPIRED: 401,
  CLIENT_CERTIFICATE_NOT_YET_VALID: 401,
  CLIENT_CERTIFICATE_UNTRUSTED: 401,
  CLIENT_CERTIFICATE_WRONG_USAGE: 401,
  AGENCY_NOT_REGISTERED: 401,
  AGENCY_SUSPENDED: 401,
  /** An agency's system certificate where an official's personal certificate is needed (/audit, /metrics). */
  PERSONAL_CERTIFICATE_REQUIRED: 401,
  /** A personal certificate whose HSA-id is not in the officials registry (for the certificate's agency). */
  OFFICIAL_NOT_REGISTERED: 401,
  TOKEN_MISSING: 401,
  TOKEN_INVALID: 401,
  TOKEN_SIGNATURE_INVALID: 401,
  TOKEN_EXPIRED: 401,
  TOKEN_LIFETIME_TOO_LONG: 401,
  TOKEN_REPLAYED: 401,
  TOKEN_NOT_BOUND: 401,
  TOKEN_ISSUER_MISMATCH: 401,
  TOKEN_MISSING_CLAIM: 401,
  TOKEN_INVALID_CLAIM: 401,
  GATEWAY_CONTEXT_INVALID: 401,
  // policy (403)
  ROLE_NOT_ALLOWED: 403,
  PURPOSE_NOT_ALLOWED: 403,
  NO_AGREEMENT: 403,
  SUBJECT_NOT_IN_CASE: 403,
  PROTECTED_IDENTITY: 403,
  DOCUMENT_NOT_REGISTERED: 403,
  // limits
  RATE_LIMITED: 429,
  REQUEST_TOO_LARGE: 413,
  /** A body in a media type, charset or content coding the gateway does not read (it reads uncompressed JSON in UTF-8). */
  UNSUPPORTED_MEDIA_TYPE: 415,
  /** An Expect header other than 100-continue. */
  EXPECTATION_FAILED: 417,
  /** More GraphQL tokens than LIMIT_DOCUMENT_TOKENS: refused while parsing. */
  DOCUMENT_TOO_LARGE: 413,
  QUERY_TOO_DEEP: 400,
  TOO_MANY_ALIASES: 400,
  TOO_MANY_ROOT_FIELDS: 400,
  /** The operation could reach more persons than LIMIT_PERSONS (lists, aliases and households counted). */
  TOO_MANY_PERSONS: 400,
  QUERY_TOO_COSTLY: 400,
  /** A JSON array of operations in one HTTP request: each operation must come on its own, with its own token. */
  BATCHING_NOT_ALLOWED: 400,
  /** The request's headers (HTTP_HEADERS_TIMEOUT_MS) or whole request (HTTP_REQUEST_TIMEOUT_MS) did not arrive in time. */
  REQUEST_TIMEOUT: 408,
  /** The request's header section is larger than the server reads. */
  REQUEST_HEADERS_TOO_LARGE: 431,
  /** The agency already holds HTTP_MAX_CONNECTIONS_PER_AGENCY open connections: reuse them. */
  TOO_MANY_CONNECTIONS: 429,
  /** Schema introspection outside development mode. */
  INTROSPECTION_DISABLED: 403,
  // availability
  ACCESS_LOG_UNAVAILABLE: 503,
  /** The gateway's own CRL is missing or out of date: no client can be checked, and it is not the client's fault. */
  REVOCATION_STATUS_UNAVAILABLE: 503,
  /** REDIS_URL is set and Redis cannot say whether the request token was used before (down, hung, or configured to evict keys): retry after Retry-After. */
  REPLAY_CACHE_UNAVAILABLE: 503,
  /**
   * Redis lost the ids of tokens used before (a restart, failover or flush), and this token could
   * have been accepted before that moment: mint a new request token and send it after Retry-After.
   */
  REPLAY_CACHE_RESET: 503,
  AGENCY_UNAVAILABLE: 502,
  NOT_FOUND: 404,
  /** A method the route does not serve (the answer's Allow header names those it does). */
  METHOD_NOT_ALLOWED: 405,
  INTERNAL_SERVER_ERROR: 500,
} as const;

export type GatewayErrorCode = keyof typeof GATEWAY_ERROR_HTTP_STATUS;

export function httpStatusOf(code: GatewayErrorCode): number {
  return GATEWAY_ERROR_HTTP_STATUS[code];
}
