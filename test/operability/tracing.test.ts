import dns from 'node:dns';
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/parseEnv.js';
import { startTracing, type Tracing } from '../../src/observability/tracing.js';
import { agencyDbPath } from '../../src/population/index.js';
import { startStack, type Stack } from '../support/stack.js';

/**
 * Traces through the same setup code the services use (startTracing with the standard OTLP
 * variables), exported over OTLP/HTTP JSON to a collector on loopback: one partner request is one
 * trace from the gateway's server span through @apollo/gateway's spans into each subgraph's span,
 * joined by the W3C trace context the gateway puts in its subgraph calls. No span holds a
 * personnummer of the population or a variable's value.
 */

interface OtlpValue {
  stringValue?: string;
  intValue?: string | number;
  boolValue?: boolean;
  doubleValue?: number;
  arrayValue?: { values?: OtlpValue[] };
}
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes?: { key: string; value: OtlpValue }[];
  events?: { name: string; attributes?: { key: string; value: OtlpValue }[] }[];
  status?: { code?: number; message?: string };
}

let collector: http.Server;
let endpoint: string;
const spans: OtlpSpan[] = [];
let tracing: Tracing;
let stack: Stack;

function flat(value: OtlpValue): string {
  return value.stringValue ?? String(value.intValue ?? value.boolValue ?? value.doubleValue ?? (value.arrayValue?.values ?? []).map(flat).join(','));
}
const attribute = (span: OtlpSpan, key: string) => {
  const found = span.attributes?.find((a) => a.key === key);
  return found ? flat(found.value) : undefined;
};

/** Every host this process opened a connection to or looked up in DNS, from here on. */
const contacted: string[] = [];
function recordContactedHosts(): void {
  const connect = net.Socket.prototype.connect;
  net.Socket.prototype.connect = function (this: net.Socket, ...args: unknown[]) {
    // Node normalises connect's arguments into an array whose first element holds the options.
    const first = Array.isArray(args[0]) ? (args[0] as unknown[])[0] : args[0];
    const options = (typeof first === 'object' && first !== null ? first : {}) as { host?: string; path?: string };
    if (!options.path) contacted.push(options.host ?? 'localhost');
    return (connect as (...a: unknown[]) => net.Socket).apply(this, args);
  } as typeof net.Socket.prototype.connect;
  const lookup = dns.lookup;
  (dns as { lookup: unknown }).lookup = (host: string, ...rest: unknown[]) => {
    contacted.push(host);
    return (lookup as (...a: unknown[]) => unknown)(host, ...rest);
  };
}

beforeAll(async () => {
  recordContactedHosts();
  collector = http.createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      if (request.url === '/v1/traces' && request.headers['content-type']?.startsWith('application/json')) {
        const payload = JSON.parse(body) as { resourceSpans?: { scopeSpans?: { spans?: OtlpSpan[] }[] }[] };
        for (const resource of payload.resourceSpans ?? []) for (const scope of resource.scopeSpans ?? []) spans.push(...(scope.spans ?? []));
      }
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end('{}');
    });
  });
  await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(collector.address() as AddressInfo).port}`;
  // As a deployment configures it; registered before the gateway is built, as serveGateway does.
  tracing = startTracing({ serviceName: 'exchange-test', env: { OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' } });
  stack = await startStack({ persons: 300 });
});

afterAll(async () => {
  await stack?.close();
  await tracing?.shutdown();
  await new Promise((resolve) => collector?.close(resolve));
});

describe('tracing configuration', () => {
  it('is off without an OTLP endpoint, and with OTEL_SDK_DISABLED or OTEL_TRACES_EXPORTER=none', () => {
    expect(startTracing({ serviceName: 'x', env: {} }).enabled).toBe(false);
    expect(startTracing({ serviceName: 'x', env: { OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_SDK_DISABLED: 'true' } }).enabled).toBe(false);
    expect(startTracing({ serviceName: 'x', env: { OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_TRACES_EXPORTER: 'none' } }).enabled).toBe(false);
  });

  it.each([
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'not a url' }, 'OTEL_EXPORTER_OTLP_ENDPOINT'],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' }, 'OTEL_EXPORTER_OTLP_PROTOCOL'],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318', OTEL_EXPORTER_OTLP_PROTOCOL: 'carrier-pigeon' }, 'OTEL_EXPORTER_OTLP_PROTOCOL'],
  ])('refuses %j naming the variable', (env, variable) => {
    let error: unknown;
    try {
      startTracing({ serviceName: 'x', env });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems.some((problem) => problem.startsWith(`${variable}:`))).toBe(true);
  });
});

describe('nothing leaves this machine unless configured', () => {
  it("neither the gateway nor Apollo's own telemetry contacts any host but loopback (the collector included)", async () => {
    // The stack was built, and a gateway constructed, with the recorder in place.
    const client = stack.client('malmo-stad', { official: 'egress-1', purpose: 'CASE_HANDLING', caseId: 'EGRESS-1', subjects: [stack.sample.withBenefits] });
    expect((await client.query('{ myPermissions { field } }')).status).toBe(200);
    await tracing.forceFlush();
    expect(contacted.length).toBeGreaterThan(0);
    expect(contacted.filter((host) => !['127.0.0.1', 'localhost', '::1'].includes(host))).toEqual([]);
  });
});

describe('a partner request', () => {
  it('is one trace from the gateway through every subgraph call into the subgraphs, with no personal data in any span', async () => {
    const subject = stack.sample.withStudentAid;
    const variables = { p: subject, year: 2023 };
    const client = stack.client('malmo-stad', { official: 'trace-1', purpose: 'CASE_HANDLING', caseId: 'TRACE-1', subjects: [subject] });
    const response = await client.query(
      'query TracedPerson($p: Personnummer!, $year: Int) { person(personnummer: $p) { name { givenName familyName } taxedIncome(year: $year) { year earnedIncome } studentAid { grant loan } } }',
      variables,
    );
    expect(response.status).toBe(200);
    expect(response.errors).toBeUndefined();
    const requestId = response.extensions?.['requestId'];
    await tracing.forceFlush();

    const server = spans.filter((span) => span.name === 'POST /graphql' && attribute(span, 'request.id') === requestId);
    expect(server).toHaveLength(1);
    const traceId = server[0]!.traceId;
    const trace = spans.filter((span) => span.traceId === traceId);
    // The gateway's span is the one root; Apollo's spans and the subgraphs' hang below it.
    expect(trace.filter((span) => !span.parentSpanId)).toEqual(server);
    expect(attribute(server[0]!, 'exchange.agency')).toBe('malmo-stad');
    expect(attribute(server[0]!, 'graphql.operation.name')).toBe('TracedPerson');
    expect(attribute(server[0]!, 'graphql.document.hash')).toMatch(/^sha256:[0-9a-f]{64}$/);
    const names = new Set(trace.map((span) => span.name));
    for (const name of ['gateway.request', 'gateway.plan', 'gateway.execute', 'gateway.fetch', 'subgraph skatteverket', 'subgraph csn']) expect(names, name).toContain(name);

    // Each subgraph span continues its gateway.fetch span: the link came through the call's headers.
    const fetches = new Map(trace.filter((span) => span.name === 'gateway.fetch').map((span) => [span.spanId, span]));
    const subgraphSpans = spans.filter((span) => span.name.startsWith('subgraph ') && attribute(span, 'request.id') === requestId);
    expect(subgraphSpans.length).toBeGreaterThanOrEqual(2);
    for (const span of subgraphSpans) {
      expect(span.traceId).toBe(traceId);
      const parent = fetches.get(span.parentSpanId ?? '');
      expect(parent, span.name).toBeDefined();
      expect(`subgraph ${attribute(parent!, 'service')}`).toBe(span.name);
    }

    // No personnummer of the population, no variable value, in any name, attribute, event or status.
    const db = new Database(agencyDbPath(stack.dataDir, 'skatteverket'), { readonly: true });
    const population = (db.prepare('SELECT personnummer FROM person').all() as { personnummer: string }[]).map((row) => row.personnummer.replace(/\D/g, ''));
    db.close();
    expect(population.length).toBe(300);
    const texts = spans.flatMap((span) => [
      span.name,
      span.status?.message ?? '',
      ...(span.attributes ?? []).map((a) => `${a.key}=${flat(a.value)}`),
      ...(span.events ?? []).flatMap((event) => [event.name, ...(event.attributes ?? []).map((a) => `${a.key}=${flat(a.value)}`)]),
    ]);
    const forms = population.flatMap((digits) => [digits, `${digits.slice(0, 8)}-${digits.slice(8)}`, digits.slice(2), `${digits.slice(2, 8)}-${digits.slice(8)}`]);
    const all = texts.join('\n');
    for (const form of forms) expect(all).not.toContain(form);
    const values = spans.flatMap((span) => [...(span.attributes ?? []), ...(span.events ?? []).flatMap((event) => event.attributes ?? [])].map((a) => flat(a.value)));
    for (const value of Object.values(variables)) expect(values).not.toContain(String(value));
    for (const text of texts) {
      expect(text).not.toContain(subject);
      expect(text).not.toMatch(/earnedIncome|givenName|"p"|variables/);
    }
  });
});
