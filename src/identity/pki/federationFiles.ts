import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/**
 * Where the development federation keeps its files (certs/dev by default, any directory in tests).
 * A deployment supplies the same kinds of files from its own CA: see docs/pki.md.
 */
export interface FederationFiles {
  readonly dir: string;
  readonly caCertificate: string;
  readonly caKey: string;
  readonly crl: string;
  readonly gatewaySigningKey: string;
  readonly auditKeys: string;
  readonly agencyDir: string;
  readonly serverDir: string;
  /** Officials' personal certificates, with a PKCS#12 copy for browsers. */
  readonly officialDir: string;
  officialCertificate(officialId: string): { readonly certificate: string; readonly key: string; readonly pkcs12: string };
  agencyCertificate(agencyId: string): { readonly certificate: string; readonly key: string };
  /** The same certificate and key as PKCS#12, for importing into a browser (development only). */
  agencyPkcs12(agencyId: string): string;
  serverCertificate(name: string): { readonly certificate: string; readonly key: string };
}

/** The name of the gateway's client certificate for calling subgraphs, under servers/. */
export const GATEWAY_CLIENT_NAME = 'gateway-client';
export const GATEWAY_SERVER_NAME = 'gateway';

export function federationFiles(dir: string): FederationFiles {
  const agencyDir = path.join(dir, 'agencies');
  const serverDir = path.join(dir, 'servers');
  const officialDir = path.join(dir, 'officials');
  const pair = (folder: string, name: string) => ({
    certificate: path.join(folder, `${name}.crt`),
    key: path.join(folder, `${name}.key`),
  });
  return {
    dir,
    caCertificate: path.join(dir, 'ca.crt'),
    caKey: path.join(dir, 'ca.key'),
    crl: path.join(dir, 'crl.pem'),
    gatewaySigningKey: path.join(dir, 'gateway-signing.jwk.json'),
    auditKeys: path.join(dir, 'audit-keys.json'),
    agencyDir,
    serverDir,
    officialDir,
    officialCertificate: (officialId) => ({ ...pair(officialDir, officialId), pkcs12: path.join(officialDir, `${officialId}.p12`) }),
    agencyCertificate: (agencyId) => pair(agencyDir, agencyId),
    agencyPkcs12: (agencyId) => path.join(agencyDir, `${agencyId}.p12`),
    serverCertificate: (name) => pair(serverDir, name),
  };
}

/**
 * Writes through a temporary file and a rename, so a process watching the file (the trust store
 * watching crl.pem) never reads half of it. Secrets are created readable by the owner only.
 */
export function writeFileAtomically(file: string, content: string | Uint8Array, options: { readonly secret?: boolean } = {}): void {
  mkdirSync(path.dirname(file), { recursive: true });
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, content, { mode: options.secret ? 0o600 : 0o644 });
  renameSync(temporary, file);
}
