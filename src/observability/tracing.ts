import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { context, propagation, SpanKind, SpanStatusCode, trace, type Attributes, type Span } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter as OtlpJsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as OtlpProtobufExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { loadTracingConfig, type TracingConfig } from '../config/observabilityConfig.js';

/**
 * OpenTelemetry traces: one trace per partner request, from the gateway's HTTP span through
 * @apollo/gateway's own spans (request, validate, plan, execute, one fetch per subgraph call) into
 * each subgraph's server span, linked by W3C trace context in the subgraph call's headers.
 *
 * Off unless an OTLP endpoint is configured with the standard variables (read by
 * loadTracingConfig in src/config/observabilityConfig.ts; OTEL_EXPORTER_OTLP_HEADERS is read by the
 * exporter itself).
 * Without a registered provider the OpenTelemetry API is a no-op, so the spans cost nothing.
 *
 * No personal data in spans: attributes are routes, status codes, request ids, agencies, subgraph
 * names, operation names and document hashes; never the query string, variables, a response or an
 * error message (a subgraph's message may quote an argument). Apollo's document attribute and
 * exception events are switched off where the gateway is built. Only trace context is propagated
 * (no baggage), and a partner's incoming trace context is not continued: the trace starts at the
 * gateway, so a partner can neither choose our trace ids nor pass data to the subgraphs in them.
 */

export interface Tracing {
  /** True when spans are exported. */
  readonly enabled: boolean;
  /** Exports every finished span now (tests, before exit). */
  forceFlush(): Promise<void>;
  shutdown(): Promise<void>;
}

const OFF: Tracing = { enabled: false, forceFlush: async () => undefined, shutdown: async () => undefined };

/** Whether a provider is exporting: without one, listeners and calls skip the no-op span work. */
let exporting = false;

/**
 * Registers the global tracer provider when OTLP export is configured; returns what stops it. The
 * services pass their `tracing` slice of the configuration; `env` (tests) or nothing (a subgraph-kit
 * user, by OpenTelemetry's convention of the process environment) is read by loadTracingConfig.
 */
export function startTracing(options: { readonly serviceName: string; readonly config?: TracingConfig; readonly env?: NodeJS.ProcessEnv }): Tracing {
  const config = options.config ?? (options.env === undefined ? loadTracingConfig() : loadTracingConfig(options.env));
  if (config.endpoint === null) return OFF;
  const exporter: SpanExporter = config.protocol === 'http/json' ? new OtlpJsonExporter({ url: config.endpoint }) : new OtlpProtobufExporter({ url: config.endpoint });
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': config.serviceName ?? options.serviceName }),
    spanProcessors: [new BatchSpanProcessor(exporter)],
  });
  provider.register({ propagator: new W3CTraceContextPropagator() });
  exporting = true;
  return {
    enabled: true,
    forceFlush: () => provider.forceFlush(),
    shutdown: async () => {
      exporting = false;
      await provider.shutdown();
    },
  };
}

/**
 * @apollo/gateway, unless APOLLO_TELEMETRY_DISABLED is set, sends usage metrics to Apollo
 * (usage-reporting.api.apollographql.com) every hour and, on construction, probes cloud metadata
 * services (169.254.169.254, metadata.google.internal) to describe its host. The exchange sends
 * nothing anywhere it was not configured to: that stays off unless an operator sets
 * APOLLO_TELEMETRY_DISABLED=false. Apollo reads the variable when a gateway is constructed.
 * This is the one touch of the process environment outside src/config/ and src/cli/: the switch
 * is Apollo's own and Apollo reads it from process.env itself, so no configuration can carry it.
 */
export function keepVendorTelemetryOff(env: NodeJS.ProcessEnv = process.env): void {
  env['APOLLO_TELEMETRY_DISABLED'] ??= 'true';
}

const tracer = trace.getTracer('agency-exchange');

/** The route of a request, never its query string (a GET request carries its variables there). */
function routeOf(request: IncomingMessage): string {
  return (request.url ?? '/').split('?')[0] ?? '/';
}

/**
 * Runs an HTTP listener inside a server span. `parentFromHeaders` continues the caller's trace
 * (a subgraph called by the gateway); the gateway starts its own.
 */
export function tracedListener(
  name: (request: IncomingMessage) => string,
  listener: RequestListener,
  options: { readonly parentFromHeaders: boolean; readonly attributes?: Attributes },
): RequestListener {
  return (request: IncomingMessage, response: ServerResponse) => {
    if (!exporting) return listener(request, response);
    const parent = options.parentFromHeaders ? propagation.extract(context.active(), request.headers) : context.active();
    const span = tracer.startSpan(
      name(request),
      { kind: SpanKind.SERVER, attributes: { 'http.request.method': request.method ?? 'GET', 'url.path': routeOf(request), ...options.attributes } },
      parent,
    );
    response.once('close', () => {
      const requestId = response.getHeader('x-request-id');
      if (typeof requestId === 'string' && requestId) span.setAttribute('request.id', requestId);
      span.setAttribute('http.response.status_code', response.statusCode);
      if (!response.writableFinished) span.setAttribute('http.request.aborted', true);
      if (response.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    });
    context.with(trace.setSpan(parent, span), () => listener(request, response));
  };
}

/** Puts the active trace context in an outgoing call's headers (the gateway's subgraph calls). */
export function injectTraceContext(headers: { set(name: string, value: string): unknown }): void {
  if (!exporting) return;
  propagation.inject(context.active(), headers, { set: (carrier, key, value) => void carrier.set(key, value) });
}

/**
 * Adds attributes to the request's server span (the calling agency, the operation) when a span is
 * recording; a function is called only then, so work done for the trace alone costs nothing with
 * tracing off.
 */
export function annotateRequestSpan(attributes: Attributes | (() => Attributes)): void {
  const span: Span | undefined = trace.getActiveSpan();
  if (span?.isRecording()) span.setAttributes(typeof attributes === 'function' ? attributes() : attributes);
}
