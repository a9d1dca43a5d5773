import { X509Certificate } from 'node:crypto';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCertsCommand } from '../../src/cli/certs.js';
import { readAuditKeys } from '../../src/identity/pki/auditKeys.js';
import { readCertificateFields } from '../../src/identity/pki/certificateFields.js';
import { ensureDevFederation, listFederationCertificates } from '../../src/identity/pki/devFederation.js';
import { writeCertificate } from '../../src/identity/pki/certificateAuthorityFiles.js';
import { federationFiles } from '../../src/identity/pki/federationFiles.js';
import { commonNameSubject, issueCertificate, validityFor, type IssuedCertificate } from '../../src/identity/pki/issueCertificate.js';
import { readGatewaySigningKey } from '../../src/identity/pki/gatewaySigningKey.js';
import { OID } from '../../src/identity/pki/oids.js';
import { DEV_PKCS12_PASSWORD, readPkcs12Certificate } from '../../src/identity/pki/pkcs12.js';
import { parseRevocationList, verifyRevocationListSignature } from '../../src/identity/pki/revocationList.js';
import { normaliseSerialNumber } from '../../src/identity/pki/serialNumbers.js';
import { DEV_AGENCY_REGISTRY_PATH, readAgencyRegistry } from '../../src/identity/registry.js';
import { createTestFederation, LOCAL_SERVER, TEST_AGENCIES, type TestFederation } from './testFederation.js';

const registry = readAgencyRegistry(DEV_AGENCY_REGISTRY_PATH);

/** Runs the certs CLI in-process, collecting what it prints. */
async function certs(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCertsCommand(argv, { out: (line) => out.push(line), err: (line) => err.push(line) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

/** One HTTPS request with the given client certificate; resolves with what the server saw of it. */
function handshake(port: number, caPem: string, client: { cert: string; key: string }): Promise<{ authorized: boolean; authorizationError: string | null }> {
  return new Promise((resolve, reject) => {
    const request = https.request({ host: '127.0.0.1', port, path: '/', ca: caPem, ...client, agent: false }, (response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => (body += chunk.toString()));
      response.on('end', () => resolve(JSON.parse(body) as { authorized: boolean; authorizationError: string | null }));
    });
    request.on('error', reject);
    request.end();
  });
}

describe('npm run certs: the development federation', () => {
  let fixture: TestFederation;
  let dir: string;
  const files = () => federationFiles(dir);

  beforeAll(async () => {
    fixture = createTestFederation();
    dir = path.join(fixture.dir, 'dev');
    await ensureDevFederation({ dir, registry });
  });
  afterAll(() => fixture.cleanup());

  it('creates a CA, a certificate per registered agency, server and gateway-client certificates, keys and an empty CRL', () => {
    const f = files();
    for (const file of [f.caCertificate, f.caKey, f.crl, f.gatewaySigningKey, f.auditKeys]) expect(existsSync(file), file).toBe(true);
    for (const agency of registry.agencies) expect(existsSync(f.agencyCertificate(agency.id).key)).toBe(true);
    for (const name of ['gateway', 'gateway-client', 'skatteverket', 'forsakringskassan', 'csn', 'arbetsformedlingen']) {
      expect(existsSync(f.serverCertificate(name).certificate), name).toBe(true);
    }
    const crl = parseRevocationList(readFileSync(f.crl, 'utf8'));
    expect(crl.entries).toEqual([]);
    expect(verifyRevocationListSignature(crl, new X509Certificate(readFileSync(f.caCertificate)))).toBe(true);
  });

  it('is idempotent: a second run keeps every valid file', async () => {
    const steps = await ensureDevFederation({ dir, registry });
    expect(steps.filter((step) => step.action !== 'kept')).toEqual([]);
  });

  it('recreates only what is missing', async () => {
    const f = files();
    const before = readFileSync(f.agencyCertificate('skatteverket').certificate, 'utf8');
    rmSync(f.agencyCertificate('csn').key);
    const steps = await ensureDevFederation({ dir, registry });
    // The browser copy follows its certificate.
    expect(steps.filter((step) => step.action !== 'kept').map((step) => path.basename(step.file))).toEqual(['csn.crt', 'csn.p12']);
    expect(readFileSync(f.agencyCertificate('skatteverket').certificate, 'utf8')).toBe(before);
    expect(new X509Certificate(readPkcs12Certificate(f.agencyPkcs12('csn'))).fingerprint256).toBe(new X509Certificate(readFileSync(f.agencyCertificate('csn').certificate)).fingerprint256);
  });

  it('writes each agency certificate with its key as PKCS#12 for browsers, opened by OpenSSL with the documented password', () => {
    const f = files();
    for (const agency of registry.agencies) {
      const p12 = readFileSync(f.agencyPkcs12(agency.id));
      expect(() => tls.createSecureContext({ pfx: p12, passphrase: DEV_PKCS12_PASSWORD }), agency.id).not.toThrow();
      expect(() => tls.createSecureContext({ pfx: p12, passphrase: 'wrong' })).toThrow();
      const held = new X509Certificate(readPkcs12Certificate(f.agencyPkcs12(agency.id)));
      expect(held.fingerprint256).toBe(new X509Certificate(readFileSync(f.agencyCertificate(agency.id).certificate)).fingerprint256);
    }
  });

  it('issues agency certificates Node parses, naming the organisation three ways, for clientAuth only', () => {
    const certificate = new X509Certificate(readFileSync(files().agencyCertificate('malmo-stad').certificate));
    const fields = readCertificateFields(certificate.raw);
    expect(fields.subject.get(OID.organizationName)).toEqual(['Malmö stad']);
    expect(fields.subject.get(OID.organizationIdentifier)).toEqual(['NTRSE-2120001124']);
    expect(fields.subject.get(OID.serialNumber)).toEqual(['212000-1124']);
    expect(fields.subject.get(OID.commonName)).toEqual(['malmo-stad system']);
    expect(fields.extendedKeyUsage).toEqual([OID.clientAuth]);
    expect(certificate.subject).toContain('O=Malmö stad');
    expect(certificate.ca).toBe(false);
    expect(certificate.checkIssued(new X509Certificate(readFileSync(files().caCertificate)))).toBe(true);
  });

  it('issues server certificates for localhost, 127.0.0.1 and ::1, for serverAuth only', () => {
    const certificate = new X509Certificate(readFileSync(files().serverCertificate('gateway').certificate));
    expect(certificate.subjectAltName).toBe('DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1');
    expect(readCertificateFields(certificate.raw).extendedKeyUsage).toEqual([OID.serverAuth]);
    expect(certificate.checkHost('localhost')).toBe('localhost');
    const gatewayClient = new X509Certificate(readFileSync(files().serverCertificate('gateway-client').certificate));
    expect(readCertificateFields(gatewayClient.raw).extendedKeyUsage).toEqual([OID.clientAuth]);
  });

  it('writes an ES256 gateway signing key and 32-byte audit keys', async () => {
    const signing = await readGatewaySigningKey(files().gatewaySigningKey);
    expect(signing.alg).toBe('ES256');
    expect(signing.publicJwk).toMatchObject({ kty: 'EC', crv: 'P-256', kid: signing.kid });
    expect(signing.publicJwk).not.toHaveProperty('d');
    const audit = readAuditKeys(files().auditKeys);
    expect(audit.encryptionKey).toHaveLength(32);
    expect(audit.hmacKey).toHaveLength(32);
  });

  it('issues an expired or a not-yet-valid certificate on request, into another directory', async () => {
    const out = path.join(fixture.dir, 'extra');
    const result = await certs('issue', 'csn', '--dir', dir, '--days', '1', '--not-before', '2020-01-01T00:00:00Z', '--out', out);
    expect(result.code).toBe(0);
    const expired = new X509Certificate(readFileSync(path.join(out, 'csn.crt')));
    expect(new Date(expired.validTo).toISOString()).toBe('2020-01-02T00:00:00.000Z');
    expect(existsSync(path.join(out, 'csn.key'))).toBe(true);
  });

  it('revokes by agency id: the CRL lists the serial, is re-signed with a higher number, and TLS accepts it', async () => {
    const f = files();
    const serialNumber = normaliseSerialNumber(new X509Certificate(readFileSync(f.agencyCertificate('imy').certificate)).serialNumber);
    const before = parseRevocationList(readFileSync(f.crl, 'utf8'));
    expect((await certs('revoke', 'imy', '--dir', dir)).code).toBe(0);
    const after = parseRevocationList(readFileSync(f.crl, 'utf8'));
    expect(after.entries.map((entry) => entry.serialNumber)).toEqual([serialNumber]);
    expect(after.crlNumber).toBe(before.crlNumber + 1n);
    expect(verifyRevocationListSignature(after, new X509Certificate(readFileSync(f.caCertificate)))).toBe(true);
    expect(() => tls.createSecureContext({ ca: readFileSync(f.caCertificate), crl: readFileSync(f.crl) })).not.toThrow();
    expect(listFederationCertificates({ dir }).find((row) => row.file.endsWith('imy.crt'))?.status).toBe('revoked');
  });

  it('revokes by serial number, and a second revocation changes nothing', async () => {
    const f = files();
    const serial = new X509Certificate(readFileSync(f.agencyCertificate('csn').certificate)).serialNumber.toLowerCase();
    expect((await certs('revoke', serial, '--dir', dir)).code).toBe(0);
    const crl = readFileSync(f.crl, 'utf8');
    expect((await certs('revoke', serial, '--dir', dir)).out).toContain('already revoked');
    expect(readFileSync(f.crl, 'utf8')).toBe(crl);
  });

  it('replaces revoked certificates on the next run and keeps them on the CRL', async () => {
    const steps = await ensureDevFederation({ dir, registry });
    expect(
      steps
        .filter((step) => step.action !== 'kept')
        .map((step) => `${path.basename(step.file)} ${step.reason}`)
        .sort(),
    ).toEqual(['csn.crt revoked', 'csn.p12 older than its certificate', 'imy.crt revoked', 'imy.p12 older than its certificate']);
    expect(parseRevocationList(readFileSync(files().crl, 'utf8')).entries).toHaveLength(2);
  });

  it.each([
    [['issue', 'no-such-agency'], 'Unknown agency or official "no-such-agency"'],
    [['frobnicate'], 'Unknown subcommand "frobnicate"'],
    [['revoke', 'not-an-agency'], 'neither a registered agency or official nor a hexadecimal serial'],
    [['issue', 'csn', '--days', 'soon'], '--days'],
    [['issue', 'csn', '--not-before', 'yesterday'], '--not-before'],
    [['list', '--colour'], "Unknown option '--colour'"],
  ])('exits 2 on a usage error: certs %j', async (argv, expected) => {
    const result = await certs(...argv, '--dir', dir);
    expect(result.code).toBe(2);
    expect(result.err).toContain(expected);
  });

  it('replaces a file it cannot use', async () => {
    writeFileSync(files().auditKeys, '{"keyId":"x","subjectEncryptionKey":"c2hvcnQ=","subjectHmacKey":"c2hvcnQ="}');
    const steps = await ensureDevFederation({ dir, registry });
    expect(steps.find((step) => step.file === files().auditKeys)?.action).toBe('replaced');
    expect(readAuditKeys(files().auditKeys).encryptionKey).toHaveLength(32);
  });
});

describe('the CRL in a real TLS server', () => {
  let fixture: TestFederation;
  let server: https.Server;
  let port: number;
  let valid: IssuedCertificate;
  let revoked: IssuedCertificate;

  beforeAll(async () => {
    fixture = createTestFederation();
    const f = federationFiles(fixture.dir);
    writeCertificate({ certificate: f.caCertificate, key: f.caKey }, fixture.ca);
    valid = fixture.issue(TEST_AGENCIES.skatteverket);
    revoked = fixture.issue(TEST_AGENCIES.forsakringskassan);
    expect((await certs('revoke', revoked.serialNumber, '--dir', fixture.dir)).code).toBe(0);
    const serverCertificate = issueCertificate(fixture.ca, { subject: commonNameSubject('gateway'), profile: LOCAL_SERVER, validity: validityFor(1), keyPair: fixture.keys[1] });
    server = https.createServer(
      {
        ca: fixture.ca.certificatePem,
        crl: readFileSync(f.crl),
        cert: serverCertificate.certificatePem,
        key: serverCertificate.keyPair.privateKeyPem,
        requestCert: true,
        rejectUnauthorized: false,
      },
      (request, response) => {
        const socket = request.socket as tls.TLSSocket;
        response.end(JSON.stringify({ authorized: socket.authorized, authorizationError: socket.authorizationError ?? null }));
      },
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    fixture.cleanup();
  });

  const asClient = (issued: IssuedCertificate) => ({ cert: issued.certificatePem, key: issued.keyPair.privateKeyPem });

  it('accepts a certificate that is not on the CRL', async () => {
    expect(await handshake(port, fixture.ca.certificatePem, asClient(valid))).toEqual({ authorized: true, authorizationError: null });
  });

  it('reports CERT_REVOKED for a revoked certificate', async () => {
    expect(await handshake(port, fixture.ca.certificatePem, asClient(revoked))).toEqual({ authorized: false, authorizationError: 'CERT_REVOKED' });
  });
});
