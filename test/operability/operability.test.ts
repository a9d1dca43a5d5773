import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Agent } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { certificateAgent, DEV_OPERATOR, get as getWith } from '../support/certificateAgent.js';
import { startStack, type Stack } from '../support/stack.js';
import { startFaultProxy, type FaultProxy } from '../support/tcpProxy.js';
import { releasedValues } from '../support/releasedValues.js';
import { createGateway, type RunningGateway } from '../../src/createGateway.js';
import { loadGatewayConfig } from '../../src/config/gatewayConfig.js';
import { createLogger } from '../../src/observability/logger.js';
import { createAgencyClient } from '../../src/client/index.js';

let stack: Stack;
let csn: FaultProxy;
let agent: Agent;
let csnUrl = '';

const QUERY = `query ($p: Personnummer!) { person(personnummer: $p) { name { givenName } studentAid { grant } } }`;

beforeAll(async () => {
  stack = await startStack({
    persons: 300,
    subgraphUrl: async (agency, url) => {
      if (agency !== 'csn') return url;
      csn = await startFaultProxy(Number(new URL(url).port));
      csnUrl = csn.urlFor(url);
      return csnUrl;
    },
  });
  // The exchange's operator (Försäkringskassan's ops-fk-1, role OPERATOR): the one who reads /metrics.
  agent = certificateAgent(stack.certsDir, 'officials', DEV_OPERATOR);
});

afterAll(async () => {
  await agent?.close();
  await csn?.close();
  await stack?.close();
});

async function get(url: string, pathName: string, dispatcher: Agent = agent) {
  return getWith(url, pathName, dispatcher) as Promise<{ status: number; text: string; json: any }>;
}

/** A second gateway instance over the stack's subgraphs, log and keys, with its own settings. */
async function extraGateway(env: Record<string, string>, lines?: string[]): Promise<RunningGateway> {
  const config = loadGatewayConfig({
    GATEWAY_PORT: '0',
    RATE_LIMIT_ENABLED: 'false',
    SUBGRAPH_URLS: [...stack.subgraphs.values()].map((s) => `${s.name}=${s.name === 'csn' ? csnUrl : s.url}`).join(','),
    ...env,
  });
  return createGateway(config, {
    ...stack.deps,
    ...(lines ? { logger: createLogger({ level: 'info', destination: { write: (line: string) => void lines.push(line) } }) } : {}),
  });
}

describe('health and readiness', () => {
  it('/healthz answers while the process lives', async () => {
    expect(await get(stack.gateway.url, '/healthz')).toMatchObject({ status: 200, json: { status: 'ok' } });
  });

  it('/readyz checks the supergraph, the access log and the certificates', async () => {
    const ready = await get(stack.gateway.url, '/readyz');
    expect(ready.status).toBe(200);
    expect(ready.json).toMatchObject({ status: 'ready', checks: { supergraph: 'ok', accessLog: 'ok', certificates: 'ok' } });
    expect(ready.json.certificateDays['gateway-server']).toBeGreaterThan(7);
  });

  it('/readyz fails and a warning is logged when a certificate expires within CERT_MIN_VALID_DAYS', async () => {
    const lines: string[] = [];
    const gateway = await extraGateway({ CERT_MIN_VALID_DAYS: '100000', CERT_WARN_DAYS: '100000' }, lines);
    try {
      const ready = await get(gateway.url, '/readyz');
      expect(ready.status).toBe(503);
      expect(ready.json.checks).toMatchObject({ certificates: 'expiring', accessLog: 'ok' });
      const warnings = lines.map((l) => JSON.parse(l)).filter((l) => l.msg === 'certificate expires soon; renew it');
      expect(warnings.map((w) => w.certificate)).toEqual(expect.arrayContaining(['gateway-server', 'gateway-subgraph-client']));
    } finally {
      await gateway.close();
    }
  });
});

describe('metrics', () => {
  it('serves Prometheus metrics for requests, denials by code, log commits and subgraph calls', async () => {
    const client = stack.client('malmo-stad', { official: 'm-1', purpose: 'CASE_HANDLING', caseId: 'METRICS-1', subjects: [stack.sample.withStudentAid] });
    await client.query(QUERY, { p: stack.sample.withStudentAid });
    await client.query(`{ person(personnummer: "${stack.sample.withStudentAid}") { sicknessBenefit { id } } }`, undefined, { purpose: 'STATISTICS' });
    const metrics = await get(stack.gateway.url, '/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.text).toMatch(/gateway_http_requests_total\{route="\/graphql",[^}]*status="200"[^}]*\} [1-9]/);
    expect(metrics.text).toMatch(/gateway_denials_total\{code="[A-Z_]+"\} [1-9]/);
    expect(metrics.text).toMatch(/gateway_access_log_commit_seconds_count [1-9]/);
    expect(metrics.text).toMatch(/gateway_subgraph_request_duration_seconds_count\{subgraph="csn",outcome="ok"\} [1-9]/);
    expect(metrics.text).toMatch(/gateway_certificate_expiry_seconds\{certificate="gateway-server"\} \d+/);
    // Labels are agencies, routes and codes: never a personnummer.
    expect(metrics.text).not.toContain(stack.sample.withStudentAid);
  });

  it('refuses /metrics to a caller without a federation certificate', async () => {
    const anonymous = new Agent({ connect: { ca: readFileSync(path.join(stack.certsDir, 'ca.crt')) } });
    try {
      const response = await get(stack.gateway.url, '/metrics', anonymous);
      expect(response.status).toBe(401);
      expect(response.json.errors[0].extensions.code).toBe('CLIENT_CERTIFICATE_REQUIRED');
    } finally {
      await anonymous.close();
    }
  });

  it.each([
    ["a partner agency's system certificate", 'agencies', 'malmo-stad', 401, 'PERSONAL_CERTIFICATE_REQUIRED'],
    ["the operating agency's own system certificate", 'agencies', 'forsakringskassan', 401, 'PERSONAL_CERTIFICATE_REQUIRED'],
    ["the supervisor's personal certificate", 'officials', 'imy-insp-1', 403, 'ROLE_NOT_ALLOWED'],
    ["a privacy officer's personal certificate", 'officials', 'dso-fk-1', 403, 'ROLE_NOT_ALLOWED'],
  ] as const)('refuses /metrics to %s: it is for operators only', async (_name, dir, name, status, code) => {
    const caller = certificateAgent(stack.certsDir, dir, name);
    try {
      const response = await get(stack.gateway.url, '/metrics', caller);
      expect(response.status).toBe(status);
      expect(response.json.errors[0].extensions.code).toBe(code);
      expect(response.text).not.toContain('gateway_http_requests_total');
    } finally {
      await caller.close();
    }
  });
});

describe('graceful shutdown', () => {
  it('drains an in-flight request (its entries committed) before closing, then refuses connections', async () => {
    const lines: string[] = [];
    const gateway = await extraGateway({}, lines);
    const client = createAgencyClient({
      certPath: path.join(stack.certsDir, 'agencies', 'malmo-stad.crt'),
      keyPath: path.join(stack.certsDir, 'agencies', 'malmo-stad.key'),
      caPath: path.join(stack.certsDir, 'ca.crt'),
      gatewayUrl: gateway.url,
      official: 'drain-1',
      purpose: 'CASE_HANDLING',
      caseId: 'DRAIN-1',
      subjects: [stack.sample.withStudentAid],
    });
    try {
      csn.hold();
      const inFlight = client.query(QUERY, { p: stack.sample.withStudentAid });
      // The new gateway has no connection to CSN yet: the one its request opens is held.
      await csn.held(1);
      const closing = gateway.close();
      const readyWhileDraining = await get(gateway.url, '/readyz').catch(() => null);
      csn.release();
      const response = await inFlight;
      await closing;
      expect(response.status).toBe(200);
      expect(response.errors).toBeUndefined();
      if (readyWhileDraining) expect(readyWhileDraining.status).toBe(503);
      const page = await stack.deps.openedAccessLog.store.query({ caseId: 'DRAIN-1', outcome: 'released' }, null, 100);
      expect(page.entries.length).toBe(releasedValues(QUERY, { p: stack.sample.withStudentAid }, response));
      expect(page.entries.length).toBeGreaterThan(0);
      await expect(client.query(QUERY, { p: stack.sample.withStudentAid })).rejects.toThrow();
    } finally {
      csn.release();
      await client.close();
    }
    // Structured logs: one JSON object per line, request lines carry the request id, no personal data.
    const parsed = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    const requestLines = parsed.filter((l) => l['msg'] === 'request');
    expect(requestLines.length).toBeGreaterThan(0);
    for (const line of requestLines) expect(line).toMatchObject({ requestId: expect.stringMatching(/^[0-9a-f-]{36}$/), agency: 'malmo-stad', status: 200 });
    const personnummer = [stack.sample.withStudentAid, ...stack.sample.household, ...stack.sample.persons];
    for (const line of lines) for (const p of personnummer) expect(line).not.toContain(p);
  });
});
