import { ConfigError, envField, parseEnv } from './parseEnv.js';

/**
 * How long an HTTPS server waits for a slow client. Node's own defaults (2 min for the TLS
 * handshake, 60 s for headers, 5 min for a request, checked every 30 s) let a client that trickles
 * bytes hold a connection for minutes; these bound every phase of a connection's life.
 */
export interface HttpTimeouts {
  /** From TCP accept to a finished TLS handshake. */
  readonly handshakeMs: number;
  /** From the first byte of a request (or from the handshake, on a new connection) to its last header. */
  readonly headersMs: number;
  /** From the first byte of a request to the last byte of its body. */
  readonly requestMs: number;
  /** How long a connection may stay open without a request after a response (Node adds 1 s). */
  readonly keepAliveMs: number;
  /** How often Node checks the headers and request timeouts: a timeout fires up to this much late. */
  readonly checkIntervalMs: number;
}

/** The gateway's HTTPS listener: timeouts plus caps on open connections. */
export interface ListenerLimits {
  readonly timeouts: HttpTimeouts;
  /** Open connections in all; beyond it new connections are dropped before the TLS handshake. */
  readonly maxConnections: number;
  /** Open TLS connections per agency (certificate), and for all callers without a valid one together. */
  readonly maxConnectionsPerAgency: number;
}

export const DEFAULT_HTTP_TIMEOUTS: HttpTimeouts = {
  handshakeMs: 10_000,
  headersMs: 10_000,
  requestMs: 30_000,
  keepAliveMs: 30_000,
  checkIntervalMs: 1000,
};

/** Reads and validates the listener's timeouts and connection caps; a bad value names its variable. */
export function loadListenerLimits(env: NodeJS.ProcessEnv = process.env): ListenerLimits {
  const raw = parseEnv(
    {
      TLS_HANDSHAKE_TIMEOUT_MS: envField.positiveInt(DEFAULT_HTTP_TIMEOUTS.handshakeMs),
      HTTP_HEADERS_TIMEOUT_MS: envField.positiveInt(DEFAULT_HTTP_TIMEOUTS.headersMs),
      HTTP_REQUEST_TIMEOUT_MS: envField.positiveInt(DEFAULT_HTTP_TIMEOUTS.requestMs),
      HTTP_KEEP_ALIVE_TIMEOUT_MS: envField.positiveInt(DEFAULT_HTTP_TIMEOUTS.keepAliveMs),
      HTTP_CONNECTIONS_CHECK_INTERVAL_MS: envField.positiveInt(DEFAULT_HTTP_TIMEOUTS.checkIntervalMs),
      HTTP_MAX_CONNECTIONS: envField.positiveInt(4096),
      HTTP_MAX_CONNECTIONS_PER_AGENCY: envField.positiveInt(256),
    },
    env,
  );
  const problems: string[] = [];
  if (raw.HTTP_HEADERS_TIMEOUT_MS > raw.HTTP_REQUEST_TIMEOUT_MS) {
    problems.push(`HTTP_HEADERS_TIMEOUT_MS: ${raw.HTTP_HEADERS_TIMEOUT_MS} must not exceed HTTP_REQUEST_TIMEOUT_MS (${raw.HTTP_REQUEST_TIMEOUT_MS}): the headers are part of the request`);
  }
  if (raw.HTTP_CONNECTIONS_CHECK_INTERVAL_MS > raw.HTTP_HEADERS_TIMEOUT_MS) {
    problems.push(
      `HTTP_CONNECTIONS_CHECK_INTERVAL_MS: ${raw.HTTP_CONNECTIONS_CHECK_INTERVAL_MS} must not exceed HTTP_HEADERS_TIMEOUT_MS (${raw.HTTP_HEADERS_TIMEOUT_MS}), or the timeouts fire that much late`,
    );
  }
  if (raw.HTTP_MAX_CONNECTIONS_PER_AGENCY > raw.HTTP_MAX_CONNECTIONS) {
    problems.push(
      `HTTP_MAX_CONNECTIONS_PER_AGENCY: ${raw.HTTP_MAX_CONNECTIONS_PER_AGENCY} must not exceed HTTP_MAX_CONNECTIONS (${raw.HTTP_MAX_CONNECTIONS}); a cap per agency above the total could never take effect`,
    );
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return {
    timeouts: {
      handshakeMs: raw.TLS_HANDSHAKE_TIMEOUT_MS,
      headersMs: raw.HTTP_HEADERS_TIMEOUT_MS,
      requestMs: raw.HTTP_REQUEST_TIMEOUT_MS,
      keepAliveMs: raw.HTTP_KEEP_ALIVE_TIMEOUT_MS,
      checkIntervalMs: raw.HTTP_CONNECTIONS_CHECK_INTERVAL_MS,
    },
    maxConnections: raw.HTTP_MAX_CONNECTIONS,
    maxConnectionsPerAgency: raw.HTTP_MAX_CONNECTIONS_PER_AGENCY,
  };
}
