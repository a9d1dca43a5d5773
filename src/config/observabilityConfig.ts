import { ConfigError, envField, parseEnv } from './parseEnv.js';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** LOG_LEVEL of the process log (src/observability/logger.ts); info by default. */
export function loadLogLevel(env: NodeJS.ProcessEnv = process.env): LogLevel {
  return parseEnv({ LOG_LEVEL: envField.enumOf(LOG_LEVELS, 'info') }, env).LOG_LEVEL;
}

export type OtlpProtocol = 'http/protobuf' | 'http/json';

/** Where spans are exported (src/observability/tracing.ts); null endpoint: tracing off. */
export interface TracingConfig {
  /** The OTLP traces URL; null when no endpoint is set or the SDK is switched off. */
  readonly endpoint: string | null;
  readonly protocol: OtlpProtocol;
  /** OTEL_SERVICE_NAME, replacing the service's own name. */
  readonly serviceName: string | null;
}

const PROTOCOLS = ['http/protobuf', 'http/json', 'grpc'] as const;

/**
 * The standard OpenTelemetry variables (OTEL_EXPORTER_OTLP_ENDPOINT or
 * OTEL_EXPORTER_OTLP_TRACES_ENDPOINT; OTEL_EXPORTER_OTLP_PROTOCOL http/protobuf or http/json;
 * OTEL_SERVICE_NAME; OTEL_SDK_DISABLED; OTEL_TRACES_EXPORTER). The default environment is the
 * process's own because a subgraph-kit user calls startTracing({ serviceName }) as OpenTelemetry's
 * convention has it, without a configuration tree of ours.
 */
export function loadTracingConfig(env: NodeJS.ProcessEnv = process.env): TracingConfig {
  const raw = parseEnv(
    {
      OTEL_SDK_DISABLED: envField.boolean(false),
      OTEL_TRACES_EXPORTER: envField.enumOf(['otlp', 'none'] as const, 'otlp'),
      OTEL_EXPORTER_OTLP_ENDPOINT: envField.optionalString().refine((v) => v === undefined || URL.canParse(v), 'expected a URL such as http://collector:4318'),
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: envField.optionalString().refine((v) => v === undefined || URL.canParse(v), 'expected a URL such as http://collector:4318/v1/traces'),
      OTEL_EXPORTER_OTLP_PROTOCOL: envField.enumOf(PROTOCOLS, 'http/protobuf'),
      OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: envField.enumOf(PROTOCOLS, 'http/protobuf').optional(),
      OTEL_SERVICE_NAME: envField.optionalString(),
    },
    env,
  );
  const serviceName = raw.OTEL_SERVICE_NAME ?? null;
  const endpoint = raw.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? (raw.OTEL_EXPORTER_OTLP_ENDPOINT ? `${raw.OTEL_EXPORTER_OTLP_ENDPOINT.replace(/\/$/, '')}/v1/traces` : undefined);
  if (raw.OTEL_SDK_DISABLED || raw.OTEL_TRACES_EXPORTER === 'none' || endpoint === undefined) return { endpoint: null, protocol: 'http/protobuf', serviceName };
  const protocolVariable = env['OTEL_EXPORTER_OTLP_TRACES_PROTOCOL'] !== undefined ? 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL' : 'OTEL_EXPORTER_OTLP_PROTOCOL';
  const protocol = protocolVariable === 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL' ? raw.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL! : raw.OTEL_EXPORTER_OTLP_PROTOCOL;
  if (protocol === 'grpc') throw new ConfigError([`${protocolVariable}: grpc is not supported here; use http/protobuf (port 4318) or http/json`]);
  return { endpoint, protocol, serviceName };
}

/** The process log and traces: every service has both. */
export interface ObservabilityConfig {
  readonly logLevel: LogLevel;
  readonly tracing: TracingConfig;
}

export function loadObservabilityConfig(env: NodeJS.ProcessEnv = process.env): ObservabilityConfig {
  return { logLevel: loadLogLevel(env), tracing: loadTracingConfig(env) };
}
