import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { GATEWAY_ERROR_HTTP_STATUS, type GatewayError } from '../errors/index.js';
import { sendJson } from '../http/responses.js';
import type { Logger } from './logger.js';
import type { GatewayMetrics } from './metrics.js';
import { certificateStatuses, expiringWithin, type CertificateStatus } from './certificates.js';
import { annotateRequestSpan } from './tracing.js';

export interface GatewayOperationsOptions {
  readonly metrics: GatewayMetrics;
  readonly logger: Logger;
  /** PEM of every certificate the gateway depends on, read afresh each time (they reload). */
  certificates(): readonly { readonly name: string; readonly pem: string | Buffer }[];
  isAccessLogHealthy(): boolean;
  /** Throws a GatewayError unless the caller may read /metrics (an official registered as OPERATOR). */
  authorizeMetrics(request: IncomingMessage): void;
  readonly certMinValidDays: number;
  readonly certWarnDays: number;
  readonly now?: () => Date;
}

/** Routes as metric labels and span names: a fixed set, whatever path a client sends. */
const ROUTES = new Set(['/graphql', '/healthz', '/readyz', '/metrics', '/ide']);

export function routeLabel(url: string): string {
  const path = url.split('?')[0] ?? '/';
  return ROUTES.has(path) ? path : path.startsWith('/audit') ? '/audit' : 'other';
}

/**
 * The gateway's operational side: request metrics and log lines, /readyz and /metrics, certificate
 * expiry warnings, and draining on shutdown. Kept out of the composition root so that file still
 * reads as the request's path.
 */
export class GatewayOperations {
  readonly #inFlight = new Set<ServerResponse>();
  readonly #agencies = new WeakMap<IncomingMessage, string>();
  /** Request id → operation label, from the metrics plugin; dropped when the request is answered. */
  readonly #operations = new Map<string, string>();
  readonly #idle: Array<() => void> = [];
  #draining = false;
  readonly #certificateTimer: NodeJS.Timeout;

  constructor(private readonly options: GatewayOperationsOptions) {
    this.checkCertificates();
    this.#certificateTimer = setInterval(() => this.checkCertificates(), 6 * 60 * 60 * 1000);
    this.#certificateTimer.unref();
  }

  get draining(): boolean {
    return this.#draining;
  }

  /** Counts the request while it is answered, and logs and measures it when it is. */
  track(request: IncomingMessage, response: ServerResponse, path: string, requestId: string): void {
    const started = performance.now();
    const route = routeLabel(path);
    this.#inFlight.add(response);
    this.options.metrics.inFlight.inc();
    // While draining, each answer closes its connection, so keep-alive clients move to another replica.
    if (this.#draining) response.setHeader('connection', 'close');
    response.once('close', () => {
      this.#inFlight.delete(response);
      this.options.metrics.inFlight.dec();
      const seconds = (performance.now() - started) / 1000;
      const status = response.writableFinished ? response.statusCode : 0;
      const agency = this.#agencies.get(request);
      // Bounded labels: a registered agency or none, a registered operation name or a fixed value.
      const labels = { route, agency: agency ?? 'none', operation: this.#operations.get(requestId) ?? 'none' };
      this.#operations.delete(requestId);
      // Written out, not spread (`{ ...labels, status }`): see admitted() in pipeline/stages.ts.
      this.options.metrics.requests.inc({ route: labels.route, agency: labels.agency, operation: labels.operation, status: String(status) });
      this.options.metrics.requestSeconds.observe(labels, seconds);
      if (route !== '/healthz' && route !== '/readyz' && route !== '/metrics') {
        this.options.logger.info(
          { requestId, route, method: request.method, status, durationMs: Math.round(seconds * 1000), ...(agency ? { agency } : {}) },
          status === 0 ? 'request aborted' : 'request',
        );
      }
      if (this.#inFlight.size === 0) for (const wake of this.#idle.splice(0)) wake();
    });
  }

  /** Names the calling agency in the request's log line once identity is established. */
  annotate(request: IncomingMessage, agency: string): void {
    this.#agencies.set(request, agency);
    annotateRequestSpan({ 'exchange.agency': agency });
  }

  /** Names the operation of a request in its metrics (see src/apollo/operationMetrics.ts for which names are used). */
  labelOperation(requestId: string, label: string): void {
    this.#operations.set(requestId, label);
  }

  /** Counts a request answered by a compiled trusted operation (apollo/compiledOperations.ts). */
  countCompiledAnswer(): void {
    this.options.metrics.compiledOperationAnswers.inc();
  }

  /** Counts a coded error of a response: a refusal (4xx) or a fault. */
  countError(code: unknown): void {
    const known = typeof code === 'string' && code in GATEWAY_ERROR_HTTP_STATUS ? (code as keyof typeof GATEWAY_ERROR_HTTP_STATUS) : undefined;
    if (!known) {
      this.options.metrics.errors.inc({ code: 'OTHER' });
      return;
    }
    const status = GATEWAY_ERROR_HTTP_STATUS[known];
    if (status >= 400 && status < 500) this.options.metrics.denials.inc({ code: known });
    else this.options.metrics.errors.inc({ code: known });
  }

  countRefusal(error: GatewayError): void {
    this.countError(error.code);
  }

  certificates(): CertificateStatus[] {
    return certificateStatuses(this.options.certificates(), this.options.now?.() ?? new Date());
  }

  /** Logs a warning per certificate within CERT_WARN_DAYS of expiry and updates the expiry gauge. */
  checkCertificates(): void {
    let statuses: CertificateStatus[];
    try {
      statuses = this.certificates();
    } catch (error) {
      this.options.logger.error({ err: (error as Error).message }, 'certificate check failed');
      return;
    }
    const now = (this.options.now?.() ?? new Date()).getTime();
    for (const status of statuses) this.options.metrics.certificateExpirySeconds.set({ certificate: status.name }, Math.round((status.notAfter.getTime() - now) / 1000));
    for (const status of expiringWithin(statuses, this.options.certWarnDays)) {
      this.options.logger.warn(
        { certificate: status.name, notAfter: status.notAfter.toISOString(), daysLeft: status.daysLeft },
        status.daysLeft < 0 ? 'certificate has expired' : 'certificate expires soon; renew it',
      );
    }
  }

  /** /readyz: the supergraph is loaded and the gateway not draining, the log takes commits, every certificate valid long enough. */
  ready(response: ServerResponse): void {
    let certificates: 'ok' | 'expiring' | 'unreadable' = 'ok';
    let certificateDays: Record<string, number> = {};
    try {
      const statuses = this.certificates();
      certificateDays = Object.fromEntries(statuses.map((s) => [s.name, s.daysLeft]));
      if (expiringWithin(statuses, this.options.certMinValidDays).length > 0) certificates = 'expiring';
    } catch {
      certificates = 'unreadable';
    }
    const accessLog = this.options.isAccessLogHealthy() ? 'ok' : 'unavailable';
    const supergraph = this.#draining ? 'draining' : 'ok';
    const ok = accessLog === 'ok' && supergraph === 'ok' && certificates === 'ok';
    sendJson(response, ok ? 200 : 503, {
      status: ok ? 'ready' : 'unavailable',
      checks: { supergraph, accessLog, certificates },
      certificateDays,
      minValidDays: this.options.certMinValidDays,
    });
  }

  /**
   * /metrics for Prometheus, for the exchange's operators only: the counts show which agencies
   * read how much and are refused how often, which is no partner system's business.
   */
  async serveMetrics(request: IncomingMessage, response: ServerResponse): Promise<void> {
    this.options.authorizeMetrics(request);
    const { contentType, body } = await this.options.metrics.render();
    response.writeHead(200, { 'content-type': contentType });
    response.end(body);
  }

  /**
   * Graceful shutdown: stop accepting connections, let in-flight requests finish (their log
   * entries commit before they answer), then close what is left once `graceMs` has passed.
   */
  async drain(server: Server, graceMs: number): Promise<{ readonly abandoned: number }> {
    this.#draining = true;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    if (this.#inFlight.size > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        new Promise<void>((resolve) => this.#idle.push(resolve)),
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, graceMs);
          timer.unref();
        }),
      ]);
      clearTimeout(timer);
    }
    const abandoned = this.#inFlight.size;
    server.closeAllConnections();
    await closed;
    clearInterval(this.#certificateTimer);
    return { abandoned };
  }
}
