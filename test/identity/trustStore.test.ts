import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadIdentityConfig } from '../../src/config/identityConfig.js';
import { DEFAULT_CERTS_DIR } from '../../src/config/paths.js';
import { writeCertificate } from '../../src/identity/pki/certificateAuthorityFiles.js';
import { federationFiles, type FederationFiles } from '../../src/identity/pki/federationFiles.js';
import { commonNameSubject, issueCertificate, validityFor } from '../../src/identity/pki/issueCertificate.js';
import { signRevocationList } from '../../src/identity/pki/revocationList.js';
import { TrustStore, TrustStoreError, type TrustStoreFiles } from '../../src/identity/trustStore.js';
import { createTestFederation, LOCAL_SERVER, type TestFederation } from './testFederation.js';

describe('TrustStore start-up checks', () => {
  let fixture: TestFederation;
  let files: FederationFiles;
  let trustFiles: TrustStoreFiles;
  const day = 86_400_000;
  const crlOf = (ca: TestFederation['ca'], nextUpdate = new Date(Date.now() + day)) => signRevocationList(ca, { crlNumber: 1n, thisUpdate: new Date(Date.now() - day), nextUpdate, entries: [] });

  beforeAll(() => {
    fixture = createTestFederation();
    files = federationFiles(fixture.dir);
    writeCertificate({ certificate: files.caCertificate, key: files.caKey }, fixture.ca);
    writeCertificate(
      files.serverCertificate('gateway'),
      issueCertificate(fixture.ca, { subject: commonNameSubject('gateway'), profile: LOCAL_SERVER, validity: validityFor(1), keyPair: fixture.keys[1] }),
    );
    trustFiles = { caPath: files.caCertificate, crlPath: files.crl, certPath: files.serverCertificate('gateway').certificate, keyPath: files.serverCertificate('gateway').key };
  });
  afterAll(() => fixture.cleanup());

  it('gives TLS options that ask for a client certificate without failing the handshake', () => {
    writeFileSync(files.crl, crlOf(fixture.ca));
    const store = new TrustStore(trustFiles);
    expect(store.serverOptions()).toMatchObject({ requestCert: true, rejectUnauthorized: false, minVersion: 'TLSv1.2' });
    expect(store.serverOptions().crl).toContain('BEGIN X509 CRL');
    store.close();
  });

  it.each<[string, () => void, string]>([
    [
      'a CA in the bundle has no CRL',
      () => {
        writeFileSync(files.caCertificate, fixture.ca.certificatePem + fixture.otherCa.certificatePem);
        writeFileSync(files.crl, crlOf(fixture.ca));
      },
      'has no list from',
    ],
    ['the CRL is past its nextUpdate', () => writeFileSync(files.crl, crlOf(fixture.ca, new Date(Date.now() - 1000))), 'out of date'],
    ['the CRL is signed by a stranger', () => writeFileSync(files.crl, crlOf(fixture.otherCa)), 'not signed by a CA'],
    ['the CA file is not PEM', () => writeFileSync(files.caCertificate, 'hello'), 'holds no PEM certificate'],
  ])('refuses to start when %s', (_name, arrange, expected) => {
    writeFileSync(files.caCertificate, fixture.ca.certificatePem);
    writeFileSync(files.crl, crlOf(fixture.ca));
    arrange();
    expect(() => new TrustStore(trustFiles)).toThrow(TrustStoreError);
    expect(() => new TrustStore(trustFiles)).toThrow(expected);
  });
});

describe('loadIdentityConfig', () => {
  it('defaults every file to the development federation', () => {
    const config = loadIdentityConfig({});
    expect(config.trust).toEqual({
      caPath: path.join(DEFAULT_CERTS_DIR, 'ca.crt'),
      crlPath: path.join(DEFAULT_CERTS_DIR, 'crl.pem'),
      certPath: path.join(DEFAULT_CERTS_DIR, 'servers', 'gateway.crt'),
      keyPath: path.join(DEFAULT_CERTS_DIR, 'servers', 'gateway.key'),
    });
    expect(config.tokenAudience).toBe('agency-exchange-gateway');
  });

  it('takes each file from its variable', () => {
    const config = loadIdentityConfig({ FEDERATION_CA_PATH: '/etc/federation/ca.pem', AUDIT_KEYS_PATH: '/run/secrets/audit.json', REQUEST_TOKEN_AUDIENCE: 'https://gw.example' });
    expect(config.trust.caPath).toBe('/etc/federation/ca.pem');
    expect(config.auditKeysPath).toBe('/run/secrets/audit.json');
    expect(config.tokenAudience).toBe('https://gw.example');
  });
});
