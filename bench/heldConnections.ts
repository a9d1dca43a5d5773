/**
 * What one agency holding connections open costs another: the latency of a well-behaved agency's
 * queries on an otherwise quiet gateway, while another agency holds idle TLS connections, and
 * while it trickles headers and bodies on as many (slowloris).
 *
 *   npx tsx bench/heldConnections.ts [--connections 500] [--requests 400]
 *
 * The exchange runs as processes, as `npm run soak` runs it. The gateway lets the agency hold all
 * its connections (HTTP_MAX_CONNECTIONS_PER_AGENCY above --connections, headers and request
 * timeouts of 10 minutes): the worst case for the listener, where neither the cap nor a timeout
 * helps. The held connections and the measured client share this process.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { parseArgs } from 'node:util';
import { Agent, request } from 'undici';
import { createAgencyClient } from '../src/client/index.js';
import { startExchangeProcesses } from '../src/cli/exchangeProcesses.js';
import { samplePersons } from '../src/population/index.js';
import { percentile } from './loadGenerator.js';
import { cpuSeconds } from './procStats.js';

const { values } = parseArgs({ options: { connections: { type: 'string', default: '500' }, requests: { type: 'string', default: '400' } } });
const CONNECTIONS = Number(values.connections);
const REQUESTS = Number(values.requests);
const HOARDER = 'forsakringskassan';
const QUERY = 'query ($p: Personnummer!) { person(personnummer: $p) { name { givenName familyName } taxedIncome { year earnedIncome } studentAid { grant } } }';

const dir = mkdtempSync(path.join(os.tmpdir(), 'exchange-held-'));
const exchange = await startExchangeProcesses({
  dir,
  persons: 2000,
  seed: 5,
  echoStdout: false,
  gatewayEnv: {
    RATE_LIMIT_ENABLED: 'false',
    HTTP_MAX_CONNECTIONS_PER_AGENCY: String(CONNECTIONS + 100),
    HTTP_HEADERS_TIMEOUT_MS: '600000',
    HTTP_REQUEST_TIMEOUT_MS: '600000',
  },
});
const subject = samplePersons(exchange.dataDir, 10).withStudentAid;
const file = (...parts: string[]) => readFileSync(path.join(exchange.certsDir, ...parts));
const client = createAgencyClient({
  certPath: path.join(exchange.certsDir, 'agencies', 'malmo-stad.crt'),
  keyPath: path.join(exchange.certsDir, 'agencies', 'malmo-stad.key'),
  caPath: path.join(exchange.certsDir, 'ca.crt'),
  gatewayUrl: exchange.gatewayUrl,
  official: 'handlaggare-1',
  purpose: 'CASE_HANDLING',
  caseId: 'HELD-1',
  subjects: [subject],
});
const metricsAgent = new Agent({ connect: { ca: file('ca.crt'), cert: file('agencies', 'malmo-stad.crt'), key: file('agencies', 'malmo-stad.key') } });

/** Connections the gateway counts for the hoarding agency, from its own /metrics. */
async function heldByGateway(): Promise<number> {
  const response = await request(new URL('/metrics', exchange.gatewayUrl), { dispatcher: metricsAgent });
  const text = await response.body.text();
  return Number(new RegExp(`^gateway_connections_open\\{agency="${HOARDER}"\\} (\\d+)$`, 'm').exec(text)?.[1] ?? 0);
}

async function hold(count: number, start: (socket: tls.TLSSocket, index: number) => void): Promise<tls.TLSSocket[]> {
  const options = {
    host: '127.0.0.1',
    port: Number(new URL(exchange.gatewayUrl).port),
    servername: 'localhost',
    ca: file('ca.crt'),
    cert: file('agencies', `${HOARDER}.crt`),
    key: file('agencies', `${HOARDER}.key`),
  };
  const sockets: tls.TLSSocket[] = [];
  for (let index = 0; index < count; index++) {
    const socket = await new Promise<tls.TLSSocket>((resolve, reject) => {
      const opened = tls.connect(options, () => resolve(opened));
      opened.once('error', reject);
    });
    socket.on('error', () => undefined);
    start(socket, index);
    sockets.push(socket);
  }
  return sockets;
}

interface PhaseResult {
  readonly phase: string;
  readonly held: number;
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  readonly max: number;
  readonly failures: number;
  readonly gatewayCpuMsPerRequest: number;
}

async function measure(phase: string): Promise<PhaseResult> {
  const held = await heldByGateway();
  const latencies: number[] = [];
  let failures = 0;
  const cpuBefore = cpuSeconds(exchange.gateway.pid);
  for (let i = 0; i < REQUESTS; i++) {
    const started = performance.now();
    const response = await client.query(QUERY, { p: subject });
    latencies.push(performance.now() - started);
    if (response.status !== 200 || response.errors) failures++;
  }
  const cpuMs = (cpuSeconds(exchange.gateway.pid) - cpuBefore) * 1000;
  latencies.sort((a, b) => a - b);
  return {
    phase,
    held,
    p50: percentile(latencies, 0.5),
    p95: percentile(latencies, 0.95),
    p99: percentile(latencies, 0.99),
    max: latencies.at(-1)!,
    failures,
    gatewayCpuMsPerRequest: cpuMs / REQUESTS,
  };
}

const results: PhaseResult[] = [];
try {
  for (let i = 0; i < 50; i++) await client.query(QUERY, { p: subject });
  results.push(await measure('quiet'));

  const idle = await hold(CONNECTIONS, () => undefined);
  results.push(await measure(`${CONNECTIONS} idle connections of ${HOARDER}`));
  for (const socket of idle) socket.destroy();

  const trickles: NodeJS.Timeout[] = [];
  const slow = await hold(CONNECTIONS, (socket, index) => {
    // Half trickle headers, half a body, one byte a second each.
    socket.write(index % 2 === 0 ? 'POST /graphql HTTP/1.1\r\nhost: localhost\r\n' : 'POST /graphql HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\ncontent-length: 100000\r\n\r\n{');
    trickles.push(setInterval(() => socket.write(index % 2 === 0 ? 'x-slow: 1\r\n' : ' '), 1000));
  });
  results.push(await measure(`${CONNECTIONS} slowloris connections of ${HOARDER}`));
  for (const timer of trickles) clearInterval(timer);
  for (const socket of slow) socket.destroy();
} finally {
  await client.close();
  await metricsAgent.close();
  await exchange.gateway.stop();
  await Promise.all([...exchange.subgraphs.values()].map((s) => s.stop()));
  rmSync(dir, { recursive: true, force: true });
}

const ms = (value: number) => value.toFixed(1);
console.log(`malmo-stad: ${REQUESTS} sequential queries per phase (one person, three agencies), ${os.cpus().length} cores, Node ${process.version}`);
console.log('| phase | held by the gateway | p50 ms | p95 ms | p99 ms | max ms | failed | gateway CPU ms/request |');
console.log('| --- | --- | --- | --- | --- | --- | --- | --- |');
for (const r of results) console.log(`| ${r.phase} | ${r.held} | ${ms(r.p50)} | ${ms(r.p95)} | ${ms(r.p99)} | ${ms(r.max)} | ${r.failures} | ${ms(r.gatewayCpuMsPerRequest)} |`);
