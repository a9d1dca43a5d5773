import { readFileSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { runQueryCommand } from '../../src/cli/query.js';
import { runTokenCommand } from '../../src/cli/token.js';
import { createAgencyClient } from '../../src/client/index.js';
import { isGatewayError } from '../../src/errors/index.js';
import { authenticateRequest } from '../../src/identity/authenticateRequest.js';
import { writeCertificate } from '../../src/identity/pki/certificateAuthorityFiles.js';
import { writeRevocationList } from '../../src/identity/pki/devFederation.js';
import { federationFiles, type FederationFiles } from '../../src/identity/pki/federationFiles.js';
import { commonNameSubject, issueCertificate, validityFor } from '../../src/identity/pki/issueCertificate.js';
import { MemoryReplayCache } from '../../src/identity/replayCache.js';
import { TrustStore } from '../../src/identity/trustStore.js';
import { makePersonnummer } from '../../src/personnummer/index.js';
import { createTestFederation, LOCAL_SERVER, TEST_AGENCIES, type TestFederation } from '../identity/testFederation.js';

const SUBJECT = makePersonnummer('1985-04-12', 238);

describe('the partner client against a server that authenticates like the gateway', () => {
  let fixture: TestFederation;
  let files: FederationFiles;
  let trustStore: TrustStore;
  let server: https.Server;
  let url: string;
  let connections = 0;

  beforeAll(async () => {
    fixture = createTestFederation();
    files = federationFiles(fixture.dir);
    writeCertificate({ certificate: files.caCertificate, key: files.caKey }, fixture.ca);
    writeRevocationList(files, fixture.ca, [], 1n, new Date());
    writeCertificate(
      files.serverCertificate('gateway'),
      issueCertificate(fixture.ca, { subject: commonNameSubject('gateway'), profile: LOCAL_SERVER, validity: validityFor(1), keyPair: fixture.keys[1] }),
    );
    writeCertificate(files.agencyCertificate('forsakringskassan'), fixture.issue(TEST_AGENCIES.forsakringskassan));
    trustStore = new TrustStore({ caPath: files.caCertificate, crlPath: files.crl, certPath: files.serverCertificate('gateway').certificate, keyPath: files.serverCertificate('gateway').key });
    const replayCache = new MemoryReplayCache();
    server = https.createServer(trustStore.serverOptions(), (request, response) => {
      authenticateRequest(request, 'req-1', { registry: fixture.registry, trust: trustStore, replayCache }).then(
        (caller) => response.end(JSON.stringify({ data: { agency: caller.agency.id, purpose: caller.purpose, case: caller.caseId, subjects: caller.subjects, official: caller.official } })),
        (error: unknown) => {
          if (!isGatewayError(error)) throw error;
          response.writeHead(error.httpStatus, { 'content-type': 'application/json' });
          response.end(JSON.stringify(error.toResponseBody()));
        },
      );
    });
    server.on('secureConnection', () => connections++);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `https://localhost:${(server.address() as AddressInfo).port}/graphql`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    trustStore.close();
    fixture.cleanup();
  });

  it('authenticates every query with a fresh bound token over one kept-alive connection', async () => {
    const paths = files.agencyCertificate('forsakringskassan');
    const client = createAgencyClient({
      certPath: paths.certificate,
      keyPath: paths.key,
      caPath: files.caCertificate,
      gatewayUrl: url,
      official: 'handlaggare-7f3a',
      purpose: 'CASE_HANDLING',
      caseId: 'FK-1',
      subjects: [SUBJECT],
    });
    const before = connections;
    try {
      const first = await client.query('{ __typename }');
      const second = await client.query('{ __typename }', undefined, { purpose: 'PAYMENT_CONTROL' });
      expect(first).toEqual({ status: 200, data: { agency: 'forsakringskassan', purpose: 'CASE_HANDLING', case: 'FK-1', subjects: [SUBJECT], official: 'handlaggare-7f3a' } });
      expect(second.data).toMatchObject({ purpose: 'PAYMENT_CONTROL' });
      expect(connections - before).toBe(1);
    } finally {
      await client.close();
    }
  });

  it('is refused with TOKEN_MISSING when a request carries a certificate but no token', async () => {
    const paths = files.agencyCertificate('forsakringskassan');
    const status = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      https
        .request(url, { method: 'POST', ca: readFileSync(files.caCertificate), cert: readFileSync(paths.certificate), key: readFileSync(paths.key), agent: false }, (response) => {
          let body = '';
          response.on('data', (chunk: Buffer) => (body += chunk.toString()));
          response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
        })
        .on('error', reject)
        .end('{}');
    });
    expect(status.status).toBe(401);
    expect(JSON.parse(status.body).errors[0].extensions.code).toBe('TOKEN_MISSING');
  });

  describe('npm run query', () => {
    const run = async (...argv: string[]) => {
      const printed: string[] = [];
      const log = vi.spyOn(console, 'log').mockImplementation((line: string) => void printed.push(line));
      const error = vi.spyOn(console, 'error').mockImplementation((line: string) => void printed.push(line));
      try {
        return { code: await runQueryCommand(argv), printed: printed.join('\n') };
      } finally {
        log.mockRestore();
        error.mockRestore();
      }
    };
    const common = () => ['--certs', fixture.dir, '--url', url, '--purpose', 'CASE_HANDLING', '--case', 'FK-9', '--subject', SUBJECT];

    it('prints the JSON response and exits 0', async () => {
      const result = await run('--as', 'forsakringskassan', ...common(), '{ __typename }');
      expect(result.code).toBe(0);
      expect(JSON.parse(result.printed)).toMatchObject({ data: { agency: 'forsakringskassan', case: 'FK-9' } });
    });

    it('exits 1 when the response has errors', async () => {
      const result = await run('--as', 'forsakringskassan', ...common(), '--official', SUBJECT, '{ __typename }');
      expect(result.code).toBe(1);
      expect(result.printed).toContain('TOKEN_INVALID_CLAIM');
    });

    it.each([
      [['--as', 'nobody'], '--as: unknown agency "nobody"'],
      [['--as', 'csn', '--purpose', 'CURIOSITY'], '--purpose: "CURIOSITY"'],
      [['--as', 'csn', '--purpose', 'STATISTICS', '--case', 'X', '--subject', '19850412-2381'], '--subject number 1'],
      [['--as', 'csn', '--purpose', 'STATISTICS', '--case', 'X'], '--subject <personnummer> is required'],
      [['--as', 'csn', '--purpose', 'STATISTICS', '--case', 'X', '--subject', SUBJECT, '--variables', '{', '{ a }'], '--variables is not JSON'],
      [['--as', 'csn', '--purpose', 'STATISTICS', '--case', 'X', '--subject', SUBJECT], 'Give the GraphQL document'],
      [['--as', 'csn', '--purpose', 'STATISTICS', '--case', 'X', '--subject', SUBJECT, '@/no/such/file.graphql'], 'does not exist'],
    ])('exits 2 naming the problem: %j', async (argv, expected) => {
      const result = await run(...argv);
      expect(result.code).toBe(2);
      expect(result.printed).toContain(expected);
    });
  });

  describe('npm run token', () => {
    const run = async (...argv: string[]) => {
      const out: string[] = [];
      const err: string[] = [];
      const code = await runTokenCommand(argv, { out: (line) => out.push(line), err: (line) => err.push(line) });
      return { code, out: out.join('\n'), err: err.join('\n') };
    };
    const common = () => ['--certs', fixture.dir, '--as', 'forsakringskassan', '--purpose', 'CASE_HANDLING', '--case', 'FK-11', '--subject', SUBJECT];

    /** A raw request as curl sends it: the agency certificate on the connection, the printed token in the header. */
    const send = (authorization: string) =>
      new Promise<{ status: number; body: Record<string, unknown> }>((resolve, reject) => {
        const paths = files.agencyCertificate('forsakringskassan');
        https
          .request(
            url,
            { method: 'POST', ca: readFileSync(files.caCertificate), cert: readFileSync(paths.certificate), key: readFileSync(paths.key), agent: false, headers: { authorization } },
            (response) => {
              let body = '';
              response.on('data', (chunk: Buffer) => (body += chunk.toString()));
              response.on('end', () => resolve({ status: response.statusCode ?? 0, body: JSON.parse(body) as Record<string, unknown> }));
            },
          )
          .on('error', reject)
          .end('{}');
      });

    it('prints a token bound to the agency certificate, accepted once', async () => {
      const printed = await run(...common(), '--official', 'handlaggare-11');
      expect(printed.code).toBe(0);
      expect(printed.out).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
      const first = await send(`Bearer ${printed.out}`);
      expect(first).toEqual({ status: 200, body: { data: { agency: 'forsakringskassan', purpose: 'CASE_HANDLING', case: 'FK-11', subjects: [SUBJECT], official: 'handlaggare-11' } } });
      // One token, one request: the second use is a replay.
      const again = await send(`Bearer ${printed.out}`);
      expect(again.status).toBe(401);
      expect((again.body['errors'] as { extensions: { code: string } }[])[0]!.extensions.code).toBe('TOKEN_REPLAYED');
    });

    it.each([
      ['header', (out: string) => out.replace(/^authorization: /, '')],
      ['json', (out: string) => (JSON.parse(out) as { authorization: string }).authorization],
    ])('prints it as a %s for the IDE or curl -H', async (format, header) => {
      const printed = await run(...common(), '--format', format);
      expect(printed.code).toBe(0);
      expect((await send(header(printed.out))).status).toBe(200);
    });

    it.each([
      [['--purpose', 'CASE_HANDLING'], '--as <agencyId> is required'],
      [['--as', 'nobody'], '--as: unknown agency "nobody"'],
      [['--as', 'csn', '--purpose', 'CURIOSITY'], '--purpose: "CURIOSITY"'],
      [['--as', 'csn', '--purpose', 'STATISTICS', '--case', 'X'], '--subject <personnummer> is required'],
      [['--as', 'csn', '--purpose', 'STATISTICS', '--case', 'X', '--subject', '19850412-2381'], '--subject number 1'],
      [['--as', 'csn', '--purpose', 'STATISTICS', '--case', 'X', '--subject', SUBJECT, '--lifetime', '301'], '--lifetime'],
      [['--as', 'csn', '--purpose', 'STATISTICS', '--case', 'X', '--subject', SUBJECT, '--format', 'xml'], '--format'],
      [['--as', 'csn', '--purpose', 'STATISTICS', '--case', 'X', '--subject', SUBJECT, 'extra'], 'Unexpected argument "extra"'],
      [['--as', 'csn', '--purpose', 'STATISTICS', '--case', 'X', '--subject', SUBJECT, '--certs', '/nonexistent'], 'run `npm run certs` first'],
      [['--colour'], "Unknown option '--colour'"],
    ])('exits 2 naming the problem: %j', async (argv, expected) => {
      const result = await run(...argv);
      expect(result.code).toBe(2);
      expect(result.out).toBe('');
      expect(result.err).toContain(expected);
    });
  });
});
