import type { RequestListener } from 'node:http';
import type { Server as HttpsServer, ServerOptions as HttpsServerOptions } from 'node:https';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import type { HttpTimeouts, ListenerLimits } from '../config/listenerConfig.js';
import { GatewayError } from '../errors/index.js';
import { verifyTlsClient, type AgencyRegistry, type ClientCertificateTrust } from '../identity/index.js';
import type { Counter, Gauge } from 'prom-client';
import { sendError } from './responses.js';
import { answerClientErrors } from './clientErrors.js';

/** The connection-cap bucket (and metric label) of every caller whose certificate names no registered agency. */
export const UNIDENTIFIED = 'unidentified';

/** The server options that bound each phase of a connection (TLS handshake, headers, body, keep-alive). */
export function serverTimeoutOptions(timeouts: HttpTimeouts): HttpsServerOptions {
  return {
    handshakeTimeout: timeouts.handshakeMs,
    headersTimeout: timeouts.headersMs,
    requestTimeout: timeouts.requestMs,
    keepAliveTimeout: timeouts.keepAliveMs,
    connectionsCheckingInterval: timeouts.checkIntervalMs,
  };
}

/**
 * What the listener counts, as GatewayMetrics (src/observability/metrics.ts) provides it: named
 * here because observability/ stands on http/ (its /readyz and /metrics answers), not under it.
 */
export interface ConnectionMetrics {
  readonly connectionsOpen: Gauge<'agency'>;
  readonly connectionsRefused: Counter<'reason' | 'agency'>;
  readonly connectionTimeouts: Counter<'phase'>;
}

export interface ConnectionLimitsOptions {
  readonly limits: ListenerLimits;
  readonly metrics: ConnectionMetrics;
  /** What maps a TLS peer's certificate to its agency, as for every request. */
  readonly identity: { readonly registry: AgencyRegistry; readonly trust: ClientCertificateTrust };
}

/** The agency a TLS peer's certificate names, if it names one that may call at all. */
function agencyOf(socket: TLSSocket, identity: ConnectionLimitsOptions['identity']): string {
  try {
    return verifyTlsClient(socket, identity).agency.id;
  } catch {
    // The request on this connection is refused with the reason; until then it counts with its kind.
    return UNIDENTIFIED;
  }
}

/**
 * Keeps one agency from taking the listener from the others by holding connections open, idle or
 * trickling bytes. Every phase of a connection has a timeout; open TLS connections are counted per
 * agency (the client certificate names it), and all callers without a valid agency certificate
 * share one bucket, so they cannot crowd out the agencies either.
 *
 * A connection beyond its agency's cap is not cut at the handshake: its first request is answered
 * 429 TOO_MANY_CONNECTIONS with a JSON body and the connection closed, so the partner learns why
 * (a reset connection looks like a network fault and invites a retry storm). A refused connection
 * that sends nothing is closed at the headers timeout with the same answer. The global cap acts
 * before the TLS handshake, where nothing can be answered but the handshake's cost is saved.
 */
export class ConnectionLimits {
  readonly #open = new Map<string, number>();
  readonly #refused = new WeakMap<Duplex, GatewayError>();

  constructor(private readonly options: ConnectionLimitsOptions) {}

  get serverOptions(): HttpsServerOptions {
    return serverTimeoutOptions(this.options.limits.timeouts);
  }

  /** Wraps the request listener: a request on a refused connection gets the refusal instead. */
  admit(listener: RequestListener): RequestListener {
    return (request, response) => {
      const refusal = this.#refused.get(request.socket);
      if (refusal) sendError(response, refusal, { connection: 'close' });
      else listener(request, response);
    };
  }

  attach(server: HttpsServer): void {
    const { metrics, limits } = this.options;
    server.maxConnections = limits.maxConnections;
    server.on('drop', () => metrics.connectionsRefused.inc({ reason: 'global-limit' }));
    server.on('tlsClientError', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ERR_TLS_HANDSHAKE_TIMEOUT') metrics.connectionTimeouts.inc({ phase: 'handshake' });
    });
    server.on('secureConnection', (socket: TLSSocket) => this.#count(socket));
    answerClientErrors(server, {
      refusalFor: (socket) => this.#refused.get(socket),
      onTimeout: (phase) => metrics.connectionTimeouts.inc({ phase }),
    });
  }

  #count(socket: TLSSocket): void {
    const { metrics, limits } = this.options;
    const agency = agencyOf(socket, this.options.identity);
    const open = this.#open.get(agency) ?? 0;
    if (open >= limits.maxConnectionsPerAgency) {
      metrics.connectionsRefused.inc({ reason: 'agency-limit', agency });
      this.#refused.set(
        socket,
        new GatewayError(
          'TOO_MANY_CONNECTIONS',
          `Agency ${agency} holds ${limits.maxConnectionsPerAgency} open connections, the most it may; send requests over those.`,
          { agency, limit: limits.maxConnectionsPerAgency },
          { httpHeaders: new Map([['retry-after', '1']]) },
        ),
      );
      return;
    }
    this.#open.set(agency, open + 1);
    metrics.connectionsOpen.inc({ agency });
    socket.once('close', () => {
      const left = (this.#open.get(agency) ?? 1) - 1;
      if (left > 0) this.#open.set(agency, left);
      else this.#open.delete(agency);
      metrics.connectionsOpen.dec({ agency });
    });
  }
}
