import { readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { Duplex } from 'node:stream';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../support/stack.js';
import { loadListenerLimits } from '../../src/config/listenerConfig.js';
import { problemsOf } from '../support/configProblems.js';
import type { RunningGateway } from '../../src/createGateway.js';
import { GatewayMetrics } from '../../src/observability/metrics.js';
import { serveSubgraph, type RunningSubgraph } from '../../src/subgraph-kit/serveSubgraph.js';
import { loadAgencySubgraphFactory } from '../../src/agencies/agencyModules.js';
import { agencyDbPath } from '../../src/population/index.js';

/**
 * Slow and hoarding clients (issue 13, item 7). Every timeout here is small and set for the test;
 * the tests wait for what the gateway does (a connection closed, a coded answer, another agency
 * answered) and never measure how long it took.
 */

let stack: Stack;
const QUERY = 'query ($p: Personnummer!) { person(personnummer: $p) { name { givenName } } }';

beforeAll(async () => {
  stack = await startStack({ persons: 200 });
});

afterAll(async () => {
  await stack?.close();
});

const noop = () => undefined;

const contexts = new Map<string, tls.SecureContext>();
/** TLS sessions to resume, per gateway and agency: hundreds of full RSA handshakes would only slow the tests. */
const sessions = new Map<string, Buffer>();

/** A TLS connection to the gateway as an agency (its certificate), or with no certificate at all. */
function connect(port: number, agency: string | null): Promise<tls.TLSSocket> {
  const certs = stack.certsDir;
  const key = `${port}/${agency ?? ''}`;
  let secureContext = contexts.get(agency ?? '');
  if (!secureContext) {
    secureContext = tls.createSecureContext({
      ca: readFileSync(path.join(certs, 'ca.crt')),
      ...(agency ? { cert: readFileSync(path.join(certs, 'agencies', `${agency}.crt`)), key: readFileSync(path.join(certs, 'agencies', `${agency}.key`)) } : {}),
    });
    contexts.set(agency ?? '', secureContext);
  }
  return new Promise((resolve, reject) => {
    const session = sessions.get(key);
    const socket = tls.connect({ host: '127.0.0.1', port, servername: 'localhost', secureContext, ...(session ? { session } : {}) });
    socket.once('session', (ticket: Buffer) => sessions.set(key, ticket));
    socket.once('secureConnect', () => resolve(socket));
    socket.once('error', reject);
  });
}

/** Opens `count` connections, a few handshakes at a time. */
async function connectMany(port: number, agency: string | null, count: number): Promise<tls.TLSSocket[]> {
  const sockets: tls.TLSSocket[] = [];
  while (sockets.length < count) {
    const batch = Math.min(25, count - sockets.length);
    sockets.push(...(await Promise.all(Array.from({ length: batch }, () => connect(port, agency)))));
  }
  for (const socket of sockets) socket.on('error', noop);
  return sockets;
}

interface Answer {
  /** The status of what the server wrote before it closed the connection, if anything. */
  readonly status: number | undefined;
  readonly headers: string;
  readonly json: { errors?: Array<{ extensions?: Record<string, unknown> }> } | undefined;
}

/** Everything the server writes until it closes the connection, read as one HTTP response. */
function answerOf(socket: Duplex): Promise<Answer> {
  return new Promise((resolve) => {
    let text = '';
    socket.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
    socket.on('error', noop);
    socket.once('close', () => {
      const split = text.indexOf('\r\n\r\n');
      const headers = split < 0 ? text : text.slice(0, split);
      const status = /^HTTP\/1\.1 (\d{3})/.exec(text)?.[1];
      let body = text.slice(split + 4);
      if (/^transfer-encoding: chunked$/im.test(headers)) body = dechunk(body);
      let json: Answer['json'];
      try {
        json = JSON.parse(body) as Answer['json'];
      } catch {
        json = undefined;
      }
      resolve({ status: status === undefined ? undefined : Number(status), headers, json });
    });
  });
}

function dechunk(body: string): string {
  let out = '';
  for (let at = 0; ; ) {
    const lineEnd = body.indexOf('\r\n', at);
    const size = parseInt(body.slice(at, lineEnd), 16);
    if (!(size > 0)) return out;
    out += body.slice(lineEnd + 2, lineEnd + 2 + size);
    at = lineEnd + 2 + size + 2;
  }
}

/** Writes `chunk` every `everyMs` until the server stops it (it answers or closes). */
function trickle(socket: Duplex, chunk: string, everyMs = 50): void {
  const timer = setInterval(() => {
    if (socket.writable) socket.write(chunk);
  }, everyMs);
  socket.once('data', () => clearInterval(timer));
  socket.once('close', () => clearInterval(timer));
}

function codeOf(answer: Answer): unknown {
  return answer.json?.errors?.[0]?.extensions?.['code'];
}

async function metricValue(metric: { get(): Promise<{ values: Array<{ value: number; labels: Record<string, unknown> }> }> }, labels: Record<string, string>): Promise<number> {
  const { values } = await metric.get();
  return values.find((v) => Object.entries(labels).every(([k, value]) => v.labels[k] === value))?.value ?? 0;
}

async function until(condition: () => Promise<boolean>, what: string): Promise<void> {
  for (let attempt = 0; attempt < 400; attempt++) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`gave up waiting for ${what}`);
}

/** A well-behaved agency's query: it must be answered whatever another agency does. */
async function wellBehavedQuery(gateway: RunningGateway) {
  const subject = stack.sample.persons[0]!;
  const client = stack.client('malmo-stad', { official: 'handlaggare-1', purpose: 'CASE_HANDLING', caseId: 'SLOW-1', subjects: [subject] }, gateway.url);
  const { status, data } = await client.query<{ person: { name: { givenName: string } } }>(QUERY, { p: subject });
  return { status, givenName: data?.person?.name.givenName };
}

describe('slow clients: every phase of a connection has a timeout', () => {
  let gateway: RunningGateway;
  const metrics = new GatewayMetrics({ processMetrics: false });
  beforeAll(async () => {
    // Short enough to wait for, long enough that a busy machine's TLS handshakes do not hit them.
    gateway = await stack.startGateway({ HTTP_HEADERS_TIMEOUT_MS: '1000', HTTP_REQUEST_TIMEOUT_MS: '2000', HTTP_KEEP_ALIVE_TIMEOUT_MS: '300', HTTP_CONNECTIONS_CHECK_INTERVAL_MS: '100' }, { metrics });
  });

  it('answers 408 REQUEST_TIMEOUT and closes a connection whose headers trickle in', async () => {
    const socket = await connect(gateway.port, 'forsakringskassan');
    const answer = answerOf(socket);
    socket.write('POST /graphql HTTP/1.1\r\nhost: localhost\r\n');
    trickle(socket, 'x-slow: 1\r\n');
    const { status, json, headers } = await answer;
    expect(status).toBe(408);
    expect(headers.toLowerCase()).toContain('connection: close');
    expect(json?.errors?.[0]?.extensions?.['code']).toBe('REQUEST_TIMEOUT');
    expect(await metricValue(metrics.connectionTimeouts, { phase: 'headers' })).toBeGreaterThanOrEqual(1);
  });

  it('answers 408 REQUEST_TIMEOUT and closes a connection whose body trickles in', async () => {
    const socket = await connect(gateway.port, 'forsakringskassan');
    const answer = answerOf(socket);
    socket.write('POST /graphql HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\ncontent-length: 100000\r\n\r\n{');
    trickle(socket, ' ');
    expect(codeOf(await answer)).toBe('REQUEST_TIMEOUT');
    expect(await metricValue(metrics.connectionTimeouts, { phase: 'body' })).toBeGreaterThanOrEqual(1);
  });

  it('answers 408 REQUEST_TIMEOUT and closes a connection that sends nothing after the handshake', async () => {
    const socket = await connect(gateway.port, 'forsakringskassan');
    const answer = await answerOf(socket);
    expect(answer.status).toBe(408);
    expect(codeOf(answer)).toBe('REQUEST_TIMEOUT');
  });

  it('closes a connection that never finishes the TLS handshake', async () => {
    // A gateway of its own: a handshake timeout this short would cut real handshakes on a busy machine.
    const handshakeMetrics = new GatewayMetrics({ processMetrics: false });
    const impatient = await stack.startGateway({ TLS_HANDSHAKE_TIMEOUT_MS: '300' }, { metrics: handshakeMetrics });
    const socket = net.connect(impatient.port, '127.0.0.1');
    const answer = await answerOf(socket);
    expect(answer.status).toBeUndefined();
    await until(async () => (await metricValue(handshakeMetrics.connectionTimeouts, { phase: 'handshake' })) >= 1, 'the handshake timeout to be counted');
  });

  it('closes a keep-alive connection left idle after its response', async () => {
    const socket = await connect(gateway.port, 'forsakringskassan');
    const answer = answerOf(socket);
    socket.write('GET /healthz HTTP/1.1\r\nhost: localhost\r\n\r\n');
    const { status, headers } = await answer;
    // The response was kept alive, and the server closed the connection afterwards on its own.
    expect(status).toBe(200);
    expect(headers.toLowerCase()).toContain('keep-alive');
  });

  it.each([
    ['a malformed header', 'bad header\r\n', 400, { code: 'BAD_REQUEST', reason: 'HPE_INVALID_HEADER_TOKEN' }],
    ['headers larger than Node reads', `x-large: ${'a'.repeat(20_000)}\r\n`, 431, { code: 'REQUEST_HEADERS_TOO_LARGE' }],
  ])('answers %s with a coded JSON body, not a bare status line', async (_, header, status, extensions) => {
    const socket = await connect(gateway.port, 'forsakringskassan');
    const answer = answerOf(socket);
    socket.write(`GET /graphql HTTP/1.1\r\nhost: localhost\r\n${header}\r\n`);
    const result = await answer;
    expect(result.status).toBe(status);
    expect(result.json?.errors?.[0]?.extensions).toEqual(extensions);
  });
});

// Hundreds of TLS handshakes on a shared 2-core machine: a generous bound, nothing measured.
describe('connections held open: caps per agency and in all', { timeout: 180_000 }, () => {
  const patient = { HTTP_HEADERS_TIMEOUT_MS: '120000', HTTP_REQUEST_TIMEOUT_MS: '120000' };
  const opened: tls.TLSSocket[] = [];
  afterAll(() => {
    for (const socket of opened.splice(0)) socket.destroy();
  });

  /** A gateway whose idle connections stay open for the whole test, with its own metrics to read. */
  async function patientGateway(env: Record<string, string>): Promise<{ gateway: RunningGateway; metrics: GatewayMetrics }> {
    const metrics = new GatewayMetrics({ processMetrics: false });
    return { gateway: await stack.startGateway({ ...patient, ...env }, { metrics }), metrics };
  }

  it('a well-behaved agency is answered while another holds 500 idle connections', async () => {
    const { gateway, metrics } = await patientGateway({ HTTP_MAX_CONNECTIONS_PER_AGENCY: '600' });
    const idle = await connectMany(gateway.port, 'forsakringskassan', 500);
    opened.push(...idle);
    let closed = 0;
    for (const socket of idle) socket.once('close', () => closed++);
    await until(async () => (await metricValue(metrics.connectionsOpen, { agency: 'forsakringskassan' })) === 500, 'the gateway to count 500 connections');

    expect(await wellBehavedQuery(gateway)).toEqual({ status: 200, givenName: expect.any(String) });
    // The 500 were still held while the other agency was served.
    expect(closed).toBe(0);
    expect(await metricValue(metrics.connectionsOpen, { agency: 'forsakringskassan' })).toBe(500);
    for (const socket of idle) socket.destroy();
    await until(async () => (await metricValue(metrics.connectionsOpen, { agency: 'forsakringskassan' })) === 0, 'the count to fall back to 0');
  });

  it('a well-behaved agency is answered while another trickles headers on 200 connections and bodies on 200 more', async () => {
    const { gateway, metrics } = await patientGateway({ HTTP_MAX_CONNECTIONS_PER_AGENCY: '600' });
    const slow = await connectMany(gateway.port, 'forsakringskassan', 400);
    opened.push(...slow);
    let closed = 0;
    slow.forEach((socket, index) => {
      socket.once('close', () => closed++);
      if (index % 2 === 0) {
        socket.write('POST /graphql HTTP/1.1\r\nhost: localhost\r\n');
        trickle(socket, 'x-slow: 1\r\n', 500);
      } else {
        socket.write('POST /graphql HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\ncontent-length: 100000\r\n\r\n{');
        trickle(socket, ' ', 500);
      }
    });
    await until(async () => (await metricValue(metrics.connectionsOpen, { agency: 'forsakringskassan' })) === 400, 'the gateway to count 400 connections');
    expect(await wellBehavedQuery(gateway)).toEqual({ status: 200, givenName: expect.any(String) });
    expect(closed).toBe(0);
    for (const socket of slow) socket.destroy();
  });

  it('refuses an agency past HTTP_MAX_CONNECTIONS_PER_AGENCY with 429 TOO_MANY_CONNECTIONS while another agency is served', async () => {
    const { gateway, metrics } = await patientGateway({ HTTP_MAX_CONNECTIONS_PER_AGENCY: '20' });
    const held = await connectMany(gateway.port, 'forsakringskassan', 500);
    opened.push(...held);
    await until(async () => (await metricValue(metrics.connectionsRefused, { reason: 'agency-limit', agency: 'forsakringskassan' })) === 480, '480 refusals');
    expect(await metricValue(metrics.connectionsOpen, { agency: 'forsakringskassan' })).toBe(20);

    // The 501st connection's request is answered with the refusal, and the connection closed.
    const extra = await connect(gateway.port, 'forsakringskassan');
    const answer = answerOf(extra);
    extra.write('POST /graphql HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}');
    const refused = await answer;
    expect(refused.status).toBe(429);
    expect(refused.headers.toLowerCase()).toContain('retry-after: 1');
    expect(refused.json?.errors?.[0]?.extensions).toEqual({ code: 'TOO_MANY_CONNECTIONS', agency: 'forsakringskassan', limit: 20 });

    expect(await wellBehavedQuery(gateway)).toEqual({ status: 200, givenName: expect.any(String) });

    // A connection given back makes room for a new one.
    for (const socket of held) socket.destroy();
    await until(async () => (await metricValue(metrics.connectionsOpen, { agency: 'forsakringskassan' })) === 0, 'the held connections to close');
    const again = await connect(gateway.port, 'forsakringskassan');
    const admitted = answerOf(again);
    again.end('GET /healthz HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n\r\n');
    expect((await admitted).status).toBe(200);
  });

  it('callers without an agency certificate share one cap and cannot crowd out the agencies', async () => {
    const { gateway, metrics } = await patientGateway({ HTTP_MAX_CONNECTIONS_PER_AGENCY: '20' });
    opened.push(...(await connectMany(gateway.port, null, 20)));
    await until(async () => (await metricValue(metrics.connectionsOpen, { agency: 'unidentified' })) === 20, '20 unidentified connections');
    const extra = await connect(gateway.port, null);
    const answer = answerOf(extra);
    extra.write('GET /healthz HTTP/1.1\r\nhost: localhost\r\n\r\n');
    expect((await answer).json?.errors?.[0]?.extensions).toMatchObject({ code: 'TOO_MANY_CONNECTIONS', agency: 'unidentified' });
    expect(await wellBehavedQuery(gateway)).toEqual({ status: 200, givenName: expect.any(String) });
  });

  it('drops connections past HTTP_MAX_CONNECTIONS before the TLS handshake', async () => {
    const { gateway, metrics } = await patientGateway({ HTTP_MAX_CONNECTIONS: '30', HTTP_MAX_CONNECTIONS_PER_AGENCY: '20' });
    opened.push(...(await connectMany(gateway.port, 'forsakringskassan', 20)), ...(await connectMany(gateway.port, 'malmo-stad', 10)));
    await expect(connect(gateway.port, 'malmo-stad')).rejects.toThrow();
    expect(await metricValue(metrics.connectionsRefused, { reason: 'global-limit' })).toBe(1);
  });
});

describe('subgraph servers', () => {
  let subgraph: RunningSubgraph;
  beforeAll(async () => {
    subgraph = await serveSubgraph((await loadAgencySubgraphFactory('csn'))({ dbPath: agencyDbPath(stack.dataDir, 'csn') }), {
      allowPlainHttp: true,
      allowAnonymous: true,
      timeouts: { handshakeMs: 300, headersMs: 300, requestMs: 600, keepAliveMs: 300, checkIntervalMs: 50 },
    });
  });
  afterAll(async () => {
    await subgraph?.close();
  });

  it.each([
    ['headers', 'POST /graphql HTTP/1.1\r\nhost: localhost\r\n', 'x-slow: 1\r\n'],
    ['body', 'POST /graphql HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\ncontent-length: 100000\r\n\r\n{', ' '],
  ])('close a connection whose %s trickle in, with 408 REQUEST_TIMEOUT', async (_, start, chunk) => {
    const url = new URL(subgraph.url);
    const socket = net.connect(Number(url.port), url.hostname);
    const answer = answerOf(socket);
    socket.write(start);
    trickle(socket, chunk);
    const result = await answer;
    expect(result.status).toBe(408);
    expect(codeOf(result)).toBe('REQUEST_TIMEOUT');
  });
});

describe('listener configuration', () => {
  it.each([
    [{ HTTP_HEADERS_TIMEOUT_MS: 'soon' }, 'HTTP_HEADERS_TIMEOUT_MS'],
    [{ HTTP_REQUEST_TIMEOUT_MS: '0' }, 'HTTP_REQUEST_TIMEOUT_MS'],
    [{ TLS_HANDSHAKE_TIMEOUT_MS: '-5' }, 'TLS_HANDSHAKE_TIMEOUT_MS'],
    [{ HTTP_KEEP_ALIVE_TIMEOUT_MS: '1.5' }, 'HTTP_KEEP_ALIVE_TIMEOUT_MS'],
    [{ HTTP_MAX_CONNECTIONS: '' }, 'HTTP_MAX_CONNECTIONS'],
    [{ HTTP_HEADERS_TIMEOUT_MS: '20000', HTTP_REQUEST_TIMEOUT_MS: '10000' }, 'HTTP_HEADERS_TIMEOUT_MS'],
    [{ HTTP_CONNECTIONS_CHECK_INTERVAL_MS: '5000', HTTP_HEADERS_TIMEOUT_MS: '1000' }, 'HTTP_CONNECTIONS_CHECK_INTERVAL_MS'],
    [{ HTTP_MAX_CONNECTIONS_PER_AGENCY: '500', HTTP_MAX_CONNECTIONS: '100' }, 'HTTP_MAX_CONNECTIONS_PER_AGENCY'],
  ])('refuses %o at start, naming %s', (env, variable) => {
    expect(problemsOf(() => loadListenerLimits(env)).map((problem) => problem.split(':')[0])).toEqual([variable]);
  });

  it('has safe defaults', () => {
    expect(loadListenerLimits({})).toEqual({
      timeouts: { handshakeMs: 10_000, headersMs: 10_000, requestMs: 30_000, keepAliveMs: 30_000, checkIntervalMs: 1000 },
      maxConnections: 4096,
      maxConnectionsPerAgency: 256,
    });
  });
});
