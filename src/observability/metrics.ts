import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { AccessLogEvent } from '../audit/accessLog.js';
import type { CircuitState } from '../resilience/circuitBreaker.js';

const CIRCUIT_STATE_VALUE: Record<CircuitState, number> = { closed: 0, 'half-open': 1, open: 2 };

/**
 * The gateway's Prometheus metrics, in a registry of its own (several gateways may share a process
 * in tests). Labels are agency ids, subgraph names, routes, status classes and error codes: a
 * bounded set, and never a personal value, an official or a case.
 */
export class GatewayMetrics {
  readonly registry = new Registry();
  readonly requests = new Counter({
    name: 'gateway_http_requests_total',
    help: 'HTTP requests answered, by route, status, calling agency (none before identity) and operation (a registered operation name, unregistered, or none).',
    labelNames: ['route', 'status', 'agency', 'operation'] as const,
    registers: [this.registry],
  });
  readonly requestSeconds = new Histogram({
    name: 'gateway_http_request_duration_seconds',
    help: 'Time from request to response, by route, calling agency and operation (as gateway_http_requests_total).',
    labelNames: ['route', 'agency', 'operation'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly inFlight = new Gauge({ name: 'gateway_http_requests_in_flight', help: 'Requests being answered now.', registers: [this.registry] });
  readonly denials = new Counter({
    name: 'gateway_denials_total',
    help: 'Requests or fields refused, by error code (identity, policy, limits).',
    labelNames: ['code'] as const,
    registers: [this.registry],
  });
  readonly errors = new Counter({
    name: 'gateway_errors_total',
    help: 'Errors in responses that are not refusals (agency unavailable, log unavailable, internal), by code.',
    labelNames: ['code'] as const,
    registers: [this.registry],
  });
  readonly accessLogCommitSeconds = new Histogram({
    name: 'gateway_access_log_commit_seconds',
    help: 'Duration of one access-log group commit.',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2],
    registers: [this.registry],
  });
  readonly compiledOperationAnswers = new Counter({
    name: 'gateway_compiled_operation_answers_total',
    help: 'Requests for registered documents answered by their compiled operation; the rest went through Apollo Server.',
    registers: [this.registry],
  });
  readonly accessLogEntries = new Counter({ name: 'gateway_access_log_entries_total', help: 'Access-log entries committed.', registers: [this.registry] });
  readonly accessLogDenialGaps = new Counter({
    name: 'gateway_access_log_denial_gaps_total',
    help: 'Refusals answered without their access-log entries because the log could not take them (nothing was released).',
    registers: [this.registry],
  });
  readonly accessLogAvailable = new Gauge({
    name: 'gateway_access_log_available',
    help: '1 while the access log takes commits, 0 while it does not (no personal data is released then).',
    registers: [this.registry],
  });
  readonly subgraphSeconds = new Histogram({
    name: 'gateway_subgraph_request_duration_seconds',
    help: 'Duration of subgraph calls, by subgraph and outcome (ok, failed, refused by the open circuit).',
    labelNames: ['subgraph', 'outcome'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly subgraphErrors = new Counter({
    name: 'gateway_subgraph_errors_total',
    help: 'Failed subgraph calls by reason (timeout, unreachable, bad-response, circuit-open), and GraphQL errors subgraphs returned (graphql).',
    labelNames: ['subgraph', 'reason'] as const,
    registers: [this.registry],
  });
  readonly circuitState = new Gauge({
    name: 'gateway_subgraph_circuit_state',
    help: 'Circuit of each subgraph: 0 closed, 1 half-open, 2 open.',
    labelNames: ['subgraph'] as const,
    registers: [this.registry],
  });
  readonly certificateExpirySeconds = new Gauge({
    name: 'gateway_certificate_expiry_seconds',
    help: 'Seconds until each certificate the gateway presents expires.',
    labelNames: ['certificate'] as const,
    registers: [this.registry],
  });
  readonly connectionsOpen = new Gauge({
    name: 'gateway_connections_open',
    help: 'Open TLS connections of the listener, by agency (unidentified: no valid agency certificate).',
    labelNames: ['agency'] as const,
    registers: [this.registry],
  });
  readonly connectionsRefused = new Counter({
    name: 'gateway_connections_refused_total',
    help: 'Connections refused: beyond HTTP_MAX_CONNECTIONS_PER_AGENCY (agency-limit, by agency) or HTTP_MAX_CONNECTIONS (global-limit, before TLS).',
    labelNames: ['reason', 'agency'] as const,
    registers: [this.registry],
  });
  readonly connectionTimeouts = new Counter({
    name: 'gateway_connection_timeouts_total',
    help: 'Connections closed because the client was too slow, by phase: handshake, headers, body.',
    labelNames: ['phase'] as const,
    registers: [this.registry],
  });
  readonly sharedStoreFallbacks = new Counter({
    name: 'gateway_shared_store_fallbacks_total',
    help: 'Rate-limit checks decided in-process because Redis failed or its circuit was open (the replay cache refuses instead: gateway_redis_unavailable_total).',
    labelNames: ['use'] as const,
    registers: [this.registry],
  });
  readonly redisUnavailable = new Counter({
    name: 'gateway_redis_unavailable_total',
    help: 'Redis commands that did not succeed, by use (replay-cache, rate-limit) and reason (timeout, error, circuit-open, eviction-policy).',
    labelNames: ['use', 'reason'] as const,
    registers: [this.registry],
  });
  readonly logVerificationRuns = new Counter({
    name: 'gateway_access_log_verification_runs_total',
    help: "Full verifications of the access log run for the audit console's badge, by outcome: ok, broken (a chain or tree did not verify: the log was changed), failed (the run could not complete).",
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  readonly logBroken = new Gauge({
    name: 'gateway_access_log_broken',
    help: '1 when the newest completed full verification of the access log found a chain or tree that does not verify (the log was changed), 0 otherwise (also before the first run: see gateway_access_log_verification_runs_total).',
    registers: [this.registry],
  });
  readonly witnessCosigns = new Counter({
    name: 'gateway_witness_cosign_total',
    help: "Each witness's part in cosigning a tree head, by witness (its key name) and outcome: cosigned, refused (it answered 4xx/5xx: inconsistent, unknown key, ...), unreachable, bad-cosignature, error (the proof could not be read), not-stored (the store refused the cosigned note).",
    labelNames: ['witness', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly witnessCosignedSize = new Gauge({
    name: 'gateway_witness_cosigned_tree_size',
    help: 'The largest tree size each witness has cosigned and the log has stored, by witness and chain.',
    labelNames: ['witness', 'chain'] as const,
    registers: [this.registry],
  });
  readonly witnessQuorumMet = new Gauge({
    name: 'gateway_witness_quorum_met',
    help: "1 when the chain's newest witnessed tree head has the witness quorum (AUDIT_WITNESS_QUORUM), 0 when it has not: citizen reports then prove against an older checkpoint, or fail verification.",
    labelNames: ['chain'] as const,
    registers: [this.registry],
  });
  readonly redisCircuitState = new Gauge({ name: 'gateway_redis_circuit_state', help: 'Circuit of the Redis connection: 0 closed, 1 half-open, 2 open.', registers: [this.registry] });

  constructor(options: { readonly processMetrics?: boolean } = {}) {
    if (options.processMetrics ?? true) collectDefaultMetrics({ register: this.registry });
    this.accessLogAvailable.set(1);
  }

  setCircuitState(subgraph: string, state: CircuitState): void {
    this.circuitState.set({ subgraph }, CIRCUIT_STATE_VALUE[state]);
  }

  setRedisCircuitState(state: CircuitState): void {
    this.redisCircuitState.set(CIRCUIT_STATE_VALUE[state]);
  }

  /** For AccessLog's onEvent. */
  observeAccessLog(event: AccessLogEvent): void {
    if (event.type === 'commit') {
      this.accessLogCommitSeconds.observe(event.durationMs / 1000);
      this.accessLogEntries.inc(event.entries);
    } else if (event.type === 'unavailable') {
      this.accessLogAvailable.set(0);
    } else if (event.type === 'recovered') {
      this.accessLogAvailable.set(1);
    }
  }

  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
