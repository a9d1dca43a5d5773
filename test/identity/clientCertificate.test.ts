import { X509Certificate } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isGatewayError, type GatewayErrorCode } from '../../src/errors/index.js';
import { verifyClientCertificate, verifyTlsClient } from '../../src/identity/clientCertificate.js';
import { writeCertificate } from '../../src/identity/pki/certificateAuthorityFiles.js';
import { revokeSerialNumber, writeRevocationList } from '../../src/identity/pki/devFederation.js';
import { federationFiles } from '../../src/identity/pki/federationFiles.js';
import { commonNameSubject, issueCertificate, validityFor, type IssuedCertificate } from '../../src/identity/pki/issueCertificate.js';
import { TrustStore } from '../../src/identity/trustStore.js';
import forge from 'node-forge';
import { createTestFederation, LOCAL_SERVER, TEST_AGENCIES, type TestFederation } from './testFederation.js';

interface Answer {
  readonly status: number;
  readonly agency?: string;
  readonly code?: GatewayErrorCode;
  readonly reason?: string;
}

/**
 * The smallest server that does what the gateway does with a client certificate: TLS asks for
 * it without enforcing, verifyTlsClient decides, a failure is a 401 JSON body naming the code.
 */
function identityServer(trustStore: TrustStore, fixture: TestFederation): https.Server {
  return https.createServer(trustStore.serverOptions(), (request, response) => {
    try {
      const verified = verifyTlsClient(request.socket as TLSSocket, { registry: fixture.registry, trust: trustStore });
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ agency: verified.agency.id }));
    } catch (error) {
      if (!isGatewayError(error)) throw error;
      response.writeHead(error.httpStatus, { 'content-type': 'application/json' });
      response.end(JSON.stringify(error.toResponseBody()));
    }
  });
}

function call(port: number, caPem: string, client: IssuedCertificate | undefined, agent: https.Agent | false = false): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const request = https.request(
      {
        host: '127.0.0.1',
        port,
        path: '/',
        ca: caPem,
        agent,
        ...(client ? { cert: client.certificatePem, key: client.keyPair.privateKeyPem } : {}),
      },
      (response) => {
        let text = '';
        response.on('data', (chunk: Buffer) => (text += chunk.toString()));
        response.on('end', () => {
          const body = JSON.parse(text) as { agency?: string; errors?: { extensions: { code: GatewayErrorCode; reason?: string } }[] };
          const extensions = body.errors?.[0]?.extensions;
          resolve({
            status: response.statusCode ?? 0,
            ...(body.agency ? { agency: body.agency } : {}),
            ...(extensions ? { code: extensions.code } : {}),
            ...(extensions?.reason ? { reason: extensions.reason } : {}),
          });
        });
      },
    );
    request.on('error', reject);
    request.end();
  });
}

describe('client certificate verification over real TLS', () => {
  let fixture: TestFederation;
  let trustStore: TrustStore;
  let server: https.Server;
  let port: number;
  const certificates: Record<string, IssuedCertificate | undefined> = {};

  beforeAll(async () => {
    fixture = createTestFederation();
    const files = federationFiles(fixture.dir);
    writeCertificate({ certificate: files.caCertificate, key: files.caKey }, fixture.ca);
    writeRevocationList(files, fixture.ca, [], 1n, new Date());
    const serverCertificate = issueCertificate(fixture.ca, { subject: commonNameSubject('gateway'), profile: LOCAL_SERVER, validity: validityFor(1), keyPair: fixture.keys[1] });
    writeCertificate(files.serverCertificate('gateway'), serverCertificate);
    trustStore = new TrustStore({
      caPath: files.caCertificate,
      crlPath: files.crl,
      certPath: files.serverCertificate('gateway').certificate,
      keyPath: files.serverCertificate('gateway').key,
    });
    server = identityServer(trustStore, fixture);
    trustStore.attach(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;

    const day = 86_400_000;
    Object.assign(certificates, {
      valid: fixture.issue(TEST_AGENCIES.forsakringskassan),
      none: undefined,
      otherCa: fixture.issue(TEST_AGENCIES.forsakringskassan, { ca: fixture.otherCa }),
      expired: fixture.issue(TEST_AGENCIES.forsakringskassan, { validity: validityFor(1, new Date(Date.now() - 3 * day)) }),
      notYetValid: fixture.issue(TEST_AGENCIES.forsakringskassan, { validity: validityFor(1, new Date(Date.now() + 2 * day)) }),
      unregistered: fixture.issue(TEST_AGENCIES.unregistered),
      suspended: fixture.issue(TEST_AGENCIES.suspended),
      serverAuthOnly: fixture.issue(TEST_AGENCIES.forsakringskassan, { profile: { kind: 'server', dnsNames: [], ipAddresses: [] } }),
      caFlag: withCaFlag(fixture.issue(TEST_AGENCIES.forsakringskassan), fixture.ca),
    });
  });

  afterAll(async () => {
    trustStore.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    fixture.cleanup();
  });

  it.each<[string, Answer]>([
    ['valid', { status: 200, agency: 'forsakringskassan' }],
    ['none', { status: 401, code: 'CLIENT_CERTIFICATE_REQUIRED' }],
    ['otherCa', { status: 401, code: 'CLIENT_CERTIFICATE_UNTRUSTED', reason: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' }],
    ['expired', { status: 401, code: 'CLIENT_CERTIFICATE_EXPIRED', reason: 'CERT_HAS_EXPIRED' }],
    ['notYetValid', { status: 401, code: 'CLIENT_CERTIFICATE_NOT_YET_VALID', reason: 'CERT_NOT_YET_VALID' }],
    ['unregistered', { status: 401, code: 'AGENCY_NOT_REGISTERED' }],
    ['suspended', { status: 401, code: 'AGENCY_SUSPENDED' }],
    ['serverAuthOnly', { status: 401, code: 'CLIENT_CERTIFICATE_WRONG_USAGE', reason: 'INVALID_PURPOSE' }],
    ['caFlag', { status: 401, code: 'CLIENT_CERTIFICATE_WRONG_USAGE', reason: 'CA_CERTIFICATE' }],
  ])('certificate %s → %j', async (name, expected) => {
    expect(await call(port, fixture.ca.certificatePem, certificates[name])).toEqual(expected);
  });

  it('refuses a certificate revoked after start once the CRL is reloaded, on open and on new connections, without a restart', async () => {
    const certificate = fixture.issue(TEST_AGENCIES.skatteverket);
    const keepAlive = new https.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      expect(await call(port, fixture.ca.certificatePem, certificate, keepAlive)).toEqual({ status: 200, agency: 'skatteverket' });

      revokeSerialNumber({ dir: fixture.dir, serialNumber: certificate.serialNumber });
      expect(trustStore.reload()).toEqual({ ok: true });

      // The open connection passed its handshake before the revocation: the per-request check catches it.
      expect(await call(port, fixture.ca.certificatePem, certificate, keepAlive)).toEqual({ status: 401, code: 'CLIENT_CERTIFICATE_REVOKED' });
      // A new handshake runs against the new CRL, swapped in with server.setSecureContext.
      expect(await call(port, fixture.ca.certificatePem, certificate)).toEqual({ status: 401, code: 'CLIENT_CERTIFICATE_REVOKED', reason: 'CERT_REVOKED' });
      expect(await call(port, fixture.ca.certificatePem, certificates['valid'])).toEqual({ status: 200, agency: 'forsakringskassan' });
    } finally {
      keepAlive.destroy();
    }
  });

  it('picks up a CRL written to disk by itself when watching', async () => {
    const files = federationFiles(fixture.dir);
    const reloaded = new Promise<void>((resolve) => {
      const watching = new TrustStore(
        { caPath: files.caCertificate, crlPath: files.crl, certPath: files.serverCertificate('gateway').certificate, keyPath: files.serverCertificate('gateway').key },
        {
          watch: true,
          onReload: () => {
            watching.close();
            resolve();
          },
        },
      );
    });
    const certificate = fixture.issue(TEST_AGENCIES.skatteverket);
    revokeSerialNumber({ dir: fixture.dir, serialNumber: certificate.serialNumber });
    await reloaded;
  });

  it('keeps the CRL in force when a reload finds a broken or older one, and reports why', async () => {
    const files = federationFiles(fixture.dir);
    const current = readFileSync(files.crl, 'utf8');
    const errors: string[] = [];
    const store = new TrustStore(
      { caPath: files.caCertificate, crlPath: files.crl, certPath: files.serverCertificate('gateway').certificate, keyPath: files.serverCertificate('gateway').key },
      { onError: (error) => errors.push(error.message) },
    );
    const revokedBefore = store.material.revoked.size;
    try {
      writeFileSync(files.crl, 'not a CRL');
      expect(store.reload().ok).toBe(false);
      writeRevocationList(files, fixture.ca, [], 1n, new Date());
      expect(store.reload().ok).toBe(false);
      writeRevocationList(files, fixture.otherCa, [], 99n, new Date());
      expect(store.reload().ok).toBe(false);
      expect(store.material.revoked.size).toBe(revokedBefore);
      expect(errors).toHaveLength(3);
    } finally {
      writeFileSync(files.crl, current);
      store.close();
    }
  });
});

describe('OpenSSL verification results map to codes', () => {
  let fixture: TestFederation;
  let certificate: X509Certificate;

  beforeAll(() => {
    fixture = createTestFederation();
    certificate = new X509Certificate(fixture.issue(TEST_AGENCIES.forsakringskassan).certificatePem);
  });
  afterAll(() => fixture.cleanup());

  const trust = () => ({ authorities: [new X509Certificate(fixture.ca.certificatePem)], isRevoked: () => false });

  it.each<[string, GatewayErrorCode]>([
    ['CERT_HAS_EXPIRED', 'CLIENT_CERTIFICATE_EXPIRED'],
    ['CERT_NOT_YET_VALID', 'CLIENT_CERTIFICATE_NOT_YET_VALID'],
    ['CERT_REVOKED', 'CLIENT_CERTIFICATE_REVOKED'],
    ['INVALID_PURPOSE', 'CLIENT_CERTIFICATE_WRONG_USAGE'],
    ['UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'CLIENT_CERTIFICATE_UNTRUSTED'],
    ['SELF_SIGNED_CERT_IN_CHAIN', 'CLIENT_CERTIFICATE_UNTRUSTED'],
    ['DEPTH_ZERO_SELF_SIGNED_CERT', 'CLIENT_CERTIFICATE_UNTRUSTED'],
    ['UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'CLIENT_CERTIFICATE_UNTRUSTED'],
    ['UNABLE_TO_GET_ISSUER_CERT', 'CLIENT_CERTIFICATE_UNTRUSTED'],
    ['CRL_HAS_EXPIRED', 'REVOCATION_STATUS_UNAVAILABLE'],
    ['UNABLE_TO_GET_CRL', 'REVOCATION_STATUS_UNAVAILABLE'],
    ['SOMETHING_NEW_IN_OPENSSL_4', 'CLIENT_CERTIFICATE_INVALID'],
  ])('%s → %s', (authorizationError, code) => {
    expect(codeOf(() => verifyClientCertificate({ certificate, authorizationError, registry: fixture.registry, trust: trust() }))).toBe(code);
  });

  it('also reads the code from an Error, as some Node APIs report it', () => {
    const error = Object.assign(new Error('certificate has expired'), { code: 'CERT_HAS_EXPIRED' });
    expect(codeOf(() => verifyClientCertificate({ certificate, authorizationError: error, registry: fixture.registry, trust: trust() }))).toBe('CLIENT_CERTIFICATE_EXPIRED');
  });

  it('checks trust, dates and revocation itself when TLS reported nothing (resumed sessions, open connections)', () => {
    const base = { certificate, authorizationError: null, registry: fixture.registry };
    expect(codeOf(() => verifyClientCertificate({ ...base, trust: { ...trust(), authorities: [new X509Certificate(fixture.otherCa.certificatePem)] } }))).toBe('CLIENT_CERTIFICATE_UNTRUSTED');
    expect(codeOf(() => verifyClientCertificate({ ...base, trust: trust(), now: new Date(Date.now() + 30 * 86_400_000) }))).toBe('CLIENT_CERTIFICATE_EXPIRED');
    expect(codeOf(() => verifyClientCertificate({ ...base, trust: trust(), now: new Date(Date.now() - 86_400_000) }))).toBe('CLIENT_CERTIFICATE_NOT_YET_VALID');
    expect(codeOf(() => verifyClientCertificate({ ...base, trust: { ...trust(), isRevoked: () => true } }))).toBe('CLIENT_CERTIFICATE_REVOKED');
  });

  it('returns the agency, the RFC 8705 thumbprint and the public key', () => {
    const verified = verifyClientCertificate({ certificate, authorizationError: null, registry: fixture.registry, trust: trust() });
    expect(verified.agency).toMatchObject({ id: 'forsakringskassan', organisationNumber: '202100-5521', roles: ['DATA_OWNER', 'CLIENT'] });
    expect(verified.thumbprint).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(verified.publicKey.asymmetricKeyType).toBe('rsa');
  });
});

function codeOf(run: () => unknown): string | undefined {
  try {
    run();
    return undefined;
  } catch (error) {
    if (isGatewayError(error)) return error.code;
    throw error;
  }
}

/** The same agency certificate re-signed by the CA as a certificate authority's (CA:TRUE, keyCertSign), clientAuth kept. */
function withCaFlag(issued: IssuedCertificate, ca: { readonly certificatePem: string; readonly keyPair: { readonly privateKeyPem: string } }): IssuedCertificate {
  const certificate = forge.pki.certificateFromPem(issued.certificatePem);
  certificate.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', digitalSignature: true, keyCertSign: true, critical: true },
    { name: 'extKeyUsage', clientAuth: true },
  ]);
  certificate.sign(forge.pki.privateKeyFromPem(ca.keyPair.privateKeyPem), forge.md.sha256.create());
  return { ...issued, certificatePem: forge.pki.certificateToPem(certificate) };
}
