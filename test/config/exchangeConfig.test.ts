import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { UnknownAgencyError } from '../../src/agencies/referenceAgencies.js';
import { loadExchangeConfig, loadSubgraphProcessConfig } from '../../src/config/index.js';
import { REPO_ROOT } from '../../src/config/paths.js';
import { problemsOf } from '../support/configProblems.js';

/**
 * The environment is read once, at the command-line edge, into one tree per process; a service
 * starts only when every variable of every slice is valid, and is told of all that are not at once.
 */
describe('the gateway process configuration', () => {
  it('builds every slice from one environment, with the documented defaults', () => {
    const config = loadExchangeConfig({ AUDIT_CHAIN_ID: 'replica-1' });
    expect(config.gateway).toMatchObject({ port: 4000, mode: 'production' });
    expect(config.gateway.limits.listener.maxConnections).toBe(4096);
    expect(config.identity.tokenAudience).toBe('agency-exchange-gateway');
    expect(config.accessLog).toMatchObject({ chainId: 'replica-1', sqliteFile: path.join(REPO_ROOT, 'data', 'access-log.db') });
    expect(config.redis.replayFallback).toBe('refuse');
    expect(config.auditApi.sessionSeconds).toBe(600);
    expect(config.observability).toEqual({ logLevel: 'info', tracing: { endpoint: null, protocol: 'http/protobuf', serviceName: null } });
    expect(config.files.map((file) => file.variable)).toEqual(expect.arrayContaining(['SUPERGRAPH_PATH', 'AGREEMENTS_PATH', 'FEDERATION_CA_PATH', 'GATEWAY_SIGNING_KEY_PATH', 'AUDIT_KEYS_PATH']));
  });

  it('reads each variable where its slice says, from the environment it is given', () => {
    const config = loadExchangeConfig({ GATEWAY_PORT: '4400', LOG_LEVEL: 'warn', AUDIT_COMMIT_TIMEOUT_MS: '900', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' });
    expect(config.gateway.port).toBe(4400);
    expect(config.observability.logLevel).toBe('warn');
    expect(config.accessLog.commitTimeoutMs).toBe(900);
    expect(config.observability.tracing.endpoint).toBe('http://collector:4318/v1/traces');
  });

  it('names every bad variable of every slice in one error', () => {
    const problems = problemsOf(() => loadExchangeConfig({ GATEWAY_PORT: 'x', LOG_LEVEL: 'loud', AUDIT_COMMIT_TIMEOUT_MS: '0', AUDIT_SESSION_SECONDS: '5', REDIS_COMMAND_TIMEOUT_MS: 'soon' }));
    expect(problems.map((problem) => problem.slice(0, problem.indexOf(':')))).toEqual(['LOG_LEVEL', 'GATEWAY_PORT', 'AUDIT_COMMIT_TIMEOUT_MS', 'REDIS_COMMAND_TIMEOUT_MS', 'AUDIT_SESSION_SECONDS']);
  });

  it('is read-only', () => {
    const config = loadExchangeConfig({});
    expect(Object.isFrozen(config)).toBe(true);
  });
});

describe('an agency subgraph process configuration', () => {
  it('builds the subgraph, listener and observability slices', () => {
    const config = loadSubgraphProcessConfig('csn', { HTTP_REQUEST_TIMEOUT_MS: '20000' });
    expect(config.subgraph.agency.id).toBe('csn');
    expect(config.subgraph.port).toBe(4103);
    expect(config.listener.timeouts.requestMs).toBe(20_000);
    expect(config.files.map((file) => file.variable)).toContain('GATEWAY_SIGNING_KEY_PATH');
  });

  it('names every bad variable in one error', () => {
    const problems = problemsOf(() =>
      loadSubgraphProcessConfig('csn', { SUBGRAPH_PORT: 'x', HTTP_MAX_CONNECTIONS: '0', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }),
    );
    expect(problems.map((problem) => problem.slice(0, problem.indexOf(':')))).toEqual(['SUBGRAPH_PORT', 'OTEL_EXPORTER_OTLP_PROTOCOL', 'HTTP_MAX_CONNECTIONS']);
  });

  it('refuses an unknown agency as a mistake in the call, not as configuration', () => {
    expect(() => loadSubgraphProcessConfig('no-such-agency', { SUBGRAPH_PORT: 'x' })).toThrow(UnknownAgencyError);
  });
});
