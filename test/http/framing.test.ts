import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { answerClientErrors } from '../../src/http/clientErrors.js';
import { gatewayRoutes, serveRoutes } from '../../src/http/routes.js';
import { sendJson } from '../../src/http/responses.js';

/**
 * What the gateway's front door (its route table, serveRoutes, answerClientErrors,
 * requireHostHeader off as createGateway sets it) answers about a request's framing, byte for byte as a hostile client
 * sends it: each refusal a status with a JSON body carrying extensions.code, never Node's bare
 * status line, and never a request half-read (the first of two Authorization headers).
 */
let server: Server;
let port: number;
let reached = 0;

beforeAll(async () => {
  const graphql = (_request: unknown, response: Parameters<typeof sendJson>[0]) => {
    reached += 1;
    sendJson(response, 200, { data: {} });
  };
  const operational = { ready: (response: Parameters<typeof sendJson>[0]) => sendJson(response, 200, { status: 'ready' }), serveMetrics: async () => undefined };
  const listener = serveRoutes(gatewayRoutes(graphql, operational, []), { track: () => undefined });
  server = createServer({ requireHostHeader: false }, listener);
  answerClientErrors(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

/** One request written as raw bytes; the answer's status and JSON body. */
function exchange(head: string, body = ''): Promise<{ status: number; code: unknown; reason: unknown }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let text = '';
    socket.on('data', (chunk) => {
      text += chunk.toString('utf8');
    });
    socket.on('error', reject);
    socket.on('close', () => {
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1]);
      // The answer may be chunked: its JSON runs from the first brace to the last.
      const rest = text.slice(text.indexOf('\r\n\r\n') + 4);
      const json = rest.slice(rest.indexOf('{'), rest.lastIndexOf('}') + 1);
      let parsed: { errors?: Array<{ extensions?: Record<string, unknown> }> } = {};
      try {
        parsed = JSON.parse(json);
      } catch {
        // a bare status line: no body at all
      }
      resolve({ status, code: parsed.errors?.[0]?.extensions?.['code'], reason: parsed.errors?.[0]?.extensions?.['reason'] ?? parsed.errors?.[0]?.extensions?.['header'] });
    });
    socket.end(`${head}\r\nconnection: close\r\n\r\n${body}`);
  });
}

const BODY = '{"query":"{ a }"}';
const post = (headers: string[], body = BODY) => `POST /graphql HTTP/1.1\r\n${[`content-length: ${Buffer.byteLength(body)}`, ...headers].join('\r\n')}`;

describe("a request's framing", () => {
  const CASES: ReadonlyArray<readonly [what: string, head: string, body: string | undefined, status: number, code: string, reason: unknown]> = [
    [
      'two Authorization headers, the good one first',
      post(['host: x', 'content-type: application/json', 'authorization: Bearer good', 'authorization: Bearer other']),
      undefined,
      400,
      'BAD_REQUEST',
      'REPEATED_HEADER',
    ],
    ['two Content-Type headers', post(['host: x', 'content-type: application/json', 'content-type: text/plain']), undefined, 400, 'BAD_REQUEST', 'REPEATED_HEADER'],
    ['two Host headers', post(['host: x', 'host: y', 'content-type: application/json']), undefined, 400, 'BAD_REQUEST', 'REPEATED_HEADER'],
    ['no Host on HTTP/1.1', post(['content-type: application/json']), undefined, 400, 'BAD_REQUEST', 'MISSING_HOST'],
    ['a gzip content coding', post(['host: x', 'content-type: application/json', 'content-encoding: gzip']), undefined, 415, 'UNSUPPORTED_MEDIA_TYPE', 'content-encoding'],
    [
      'a transfer coding besides chunked',
      `POST /graphql HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ntransfer-encoding: gzip, chunked`,
      `${BODY.length.toString(16)}\r\n${BODY}\r\n0\r\n\r\n`,
      415,
      'UNSUPPORTED_MEDIA_TYPE',
      'transfer-encoding',
    ],
    ['an Expect other than 100-continue', post(['host: x', 'content-type: application/json', 'expect: something-else']), undefined, 417, 'EXPECTATION_FAILED', undefined],
  ];
  for (const [what, head, body, status, code, reason] of CASES) {
    it(`${what}: ${status} ${code}`, async () => {
      const before = reached;
      expect(await exchange(head, body ?? BODY)).toEqual({ status, code, reason });
      expect(reached).toBe(before);
    });
  }

  it('a well-framed request reaches its route (the control)', async () => {
    const before = reached;
    expect((await exchange(post(['host: x', 'content-type: application/json', 'content-encoding: identity']))).status).toBe(200);
    expect(reached).toBe(before + 1);
  });
});

describe('the operational routes', () => {
  it.each([
    ['POST', '/healthz'],
    ['DELETE', '/readyz'],
    ['PUT', '/metrics'],
  ])('refuse %s %s with a coded 405', async (method, path) => {
    expect(await exchange(`${method} ${path} HTTP/1.1\r\nhost: x\r\ncontent-length: 0`, '')).toEqual({ status: 405, code: 'METHOD_NOT_ALLOWED', reason: undefined });
  });

  it('answer GET', async () => {
    expect((await exchange('GET /healthz HTTP/1.1\r\nhost: x', '')).status).toBe(200);
    expect((await exchange('GET /readyz HTTP/1.1\r\nhost: x', '')).status).toBe(200);
  });
});
