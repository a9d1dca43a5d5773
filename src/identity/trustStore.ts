import { X509Certificate } from 'node:crypto';
import { readFileSync, watch, type FSWatcher } from 'node:fs';
import path from 'node:path';
import tls from 'node:tls';
import { readCertificateFields } from './pki/certificateFields.js';
import { pemToDer } from './pki/der.js';
import { CRL_PEM_LABEL, parseRevocationList, verifyRevocationListSignature, type ParsedRevocationList } from './pki/revocationList.js';
import { normaliseSerialNumber } from './pki/serialNumbers.js';

/**
 * What the gateway trusts for client certificates: the federation CA bundle and its CRLs, plus
 * the gateway's own server certificate. The CRL can be replaced while the gateway runs: a
 * revocation must take effect without a restart, both for new TLS handshakes (through
 * server.setSecureContext) and for requests on connections that are already open (isRevoked).
 */

export interface TrustStoreFiles {
  /** PEM bundle of the CA certificates that issue agency certificates. */
  readonly caPath: string;
  /** PEM file with one CRL per issuing CA. Without it nothing is checked for revocation. */
  readonly crlPath?: string;
  /** This server's certificate, followed by any intermediates. */
  readonly certPath: string;
  readonly keyPath: string;
}

/** What verifyClientCertificate needs to re-check a certificate on every request. */
export interface ClientCertificateTrust {
  readonly authorities: readonly X509Certificate[];
  isRevoked(certificate: X509Certificate): boolean;
}

export interface TrustMaterial {
  readonly ca: string;
  readonly crl: string | undefined;
  readonly cert: string;
  readonly key: string;
  readonly authorities: readonly X509Certificate[];
  readonly revocationLists: readonly ParsedRevocationList[];
  /** `<issuer DER hex>/<serial>`: serials are unique per issuer only. */
  readonly revoked: ReadonlySet<string>;
}

export class TrustStoreError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TrustStoreError';
  }
}

export interface TrustStoreOptions {
  /** Reload when the CA or CRL file changes. An explicit reload() always works. */
  readonly watch?: boolean;
  readonly onReload?: (material: TrustMaterial) => void;
  /** A rejected reload: the previous material stays in force. */
  readonly onError?: (error: TrustStoreError) => void;
  readonly now?: () => Date;
}

export type TrustReloadResult = { readonly ok: true } | { readonly ok: false; readonly error: TrustStoreError };

/** Past this many client certificates the remembered revocation keys start over (a federation has far fewer). */
const MAX_REMEMBERED_CERTIFICATES = 4096;

function revocationKey(issuerDer: Buffer, serialNumber: string): string {
  return `${issuerDer.toString('hex')}/${serialNumber}`;
}

function read(file: string, what: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new TrustStoreError(`${what} ${file} cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}).`);
  }
}

/** Reads and cross-checks all files; throws TrustStoreError naming the file at fault. */
export function readTrustMaterial(files: TrustStoreFiles, now: Date, previous?: TrustMaterial): TrustMaterial {
  const ca = read(files.caPath, 'CA bundle');
  const authorities = pemToDer(ca, 'CERTIFICATE').map((der) => new X509Certificate(der));
  if (authorities.length === 0) throw new TrustStoreError(`CA bundle ${files.caPath} holds no PEM certificate.`);
  const notCa = authorities.find((authority) => !authority.ca);
  if (notCa) throw new TrustStoreError(`CA bundle ${files.caPath}: "${notCa.subject.replace(/\n/g, ', ')}" is not a CA certificate.`);

  const crl = files.crlPath === undefined ? undefined : read(files.crlPath, 'CRL');
  const revocationLists: ParsedRevocationList[] = [];
  for (const der of crl === undefined ? [] : pemToDer(crl, CRL_PEM_LABEL)) {
    let list: ParsedRevocationList;
    try {
      list = parseRevocationList(der);
    } catch (error) {
      throw new TrustStoreError(`CRL ${files.crlPath}: ${(error as Error).message}`);
    }
    if (!authorities.some((authority) => verifyRevocationListSignature(list, authority))) {
      throw new TrustStoreError(`CRL ${files.crlPath} is not signed by a CA in ${files.caPath}.`);
    }
    // OpenSSL refuses every client once a CRL's nextUpdate has passed; better to say so now.
    if (list.nextUpdate && list.nextUpdate <= now) {
      throw new TrustStoreError(`CRL ${files.crlPath} is out of date (nextUpdate ${list.nextUpdate.toISOString()}); publish a fresh one.`);
    }
    const older = previous?.revocationLists.find((old) => old.issuerDer.equals(list.issuerDer));
    if (older && list.crlNumber < older.crlNumber) {
      // An older list would silently un-revoke certificates, e.g. a backup restored over the current file.
      throw new TrustStoreError(`CRL ${files.crlPath} has CRL number ${list.crlNumber}, older than the ${older.crlNumber} in force.`);
    }
    revocationLists.push(list);
  }
  if (crl !== undefined) {
    // With a CRL configured OpenSSL checks every certificate of the chain, and one whose CA has no
    // list fails with UNABLE_TO_GET_CRL: every agency under that CA would be locked out.
    const uncovered = authorities.find((authority) => !revocationLists.some((list) => list.issuerDer.equals(readCertificateFields(authority.raw).subjectDer)));
    if (uncovered) throw new TrustStoreError(`CRL ${files.crlPath} has no list from "${uncovered.subject.replace(/\n/g, ', ')}" in ${files.caPath}.`);
  }

  const cert = read(files.certPath, 'Server certificate');
  const key = read(files.keyPath, 'Server key');
  try {
    // OpenSSL is the final judge: this fails on a key that does not match the certificate or a CRL it cannot load.
    tls.createSecureContext({ ca, cert, key, ...(crl === undefined ? {} : { crl }) });
  } catch (error) {
    throw new TrustStoreError(`TLS rejects the trust material (${(error as Error).message}).`);
  }
  const revoked = new Set(revocationLists.flatMap((list) => list.entries.map((entry) => revocationKey(list.issuerDer, entry.serialNumber))));
  return { ca, crl, cert, key, authorities, revocationLists, revoked };
}

export class TrustStore implements ClientCertificateTrust {
  #material: TrustMaterial;
  readonly #watchers: FSWatcher[] = [];
  readonly #servers = new Set<tls.Server>();
  #debounce: NodeJS.Timeout | undefined;
  readonly #now: () => Date;
  /** SHA-256 fingerprint → revocation key of certificates seen; independent of the CRL, so kept across reloads. */
  readonly #revocationKeys = new Map<string, string>();

  /** Throws TrustStoreError when the files are unusable at start: there is nothing to fall back on yet. */
  constructor(
    readonly files: TrustStoreFiles,
    private readonly options: TrustStoreOptions = {},
  ) {
    this.#now = options.now ?? (() => new Date());
    this.#material = readTrustMaterial(files, this.#now());
    if (options.watch) this.#watch();
  }

  get material(): TrustMaterial {
    return this.#material;
  }

  get authorities(): readonly X509Certificate[] {
    return this.#material.authorities;
  }

  /** The options tls.createSecureContext and server.setSecureContext take. */
  secureContextOptions(): tls.SecureContextOptions {
    const { ca, crl, cert, key } = this.#material;
    return { ca, cert, key, ...(crl === undefined ? {} : { crl }), minVersion: 'TLSv1.2' };
  }

  /**
   * Options for https.createServer / tls.createServer. The handshake asks for a client
   * certificate but does not fail without a valid one: the request is answered with a 401 JSON
   * body naming the reason (CLIENT_CERTIFICATE_EXPIRED, ...) instead of a bare TLS alert.
   */
  serverOptions(): tls.TlsOptions & { requestCert: true; rejectUnauthorized: false } {
    return { ...this.secureContextOptions(), requestCert: true, rejectUnauthorized: false };
  }

  /** Checked against the CRL in force on every call; only the certificate's own issuer and serial are remembered. */
  isRevoked(certificate: X509Certificate): boolean {
    return this.#material.revoked.has(this.#revocationKeyOf(certificate));
  }

  /** Reading the issuer name from the DER costs more than the lookup itself, and every request of a connection presents the same certificate. */
  #revocationKeyOf(certificate: X509Certificate): string {
    const fingerprint = certificate.fingerprint256;
    let key = this.#revocationKeys.get(fingerprint);
    if (key === undefined) {
      key = revocationKey(readCertificateFields(certificate.raw).issuerDer, normaliseSerialNumber(certificate.serialNumber));
      if (this.#revocationKeys.size >= MAX_REMEMBERED_CERTIFICATES) this.#revocationKeys.clear();
      this.#revocationKeys.set(fingerprint, key);
    }
    return key;
  }

  /** Keeps the server's TLS context in step with every successful reload. Returns a function that stops it. */
  attach(server: tls.Server): () => void {
    this.#servers.add(server);
    return () => this.#servers.delete(server);
  }

  reload(): TrustReloadResult {
    try {
      this.#material = readTrustMaterial(this.files, this.#now(), this.#material);
    } catch (error) {
      const failure = error instanceof TrustStoreError ? error : new TrustStoreError((error as Error).message);
      this.options.onError?.(failure);
      return { ok: false, error: failure };
    }
    for (const server of this.#servers) server.setSecureContext(this.secureContextOptions());
    this.options.onReload?.(this.#material);
    return { ok: true };
  }

  close(): void {
    clearTimeout(this.#debounce);
    for (const watcher of this.#watchers.splice(0)) watcher.close();
    this.#servers.clear();
  }

  #watch(): void {
    const watched = [this.files.crlPath, this.files.caPath].filter((file): file is string => file !== undefined);
    const byDirectory = new Map<string, Set<string>>();
    for (const file of watched) {
      const dir = path.dirname(path.resolve(file));
      byDirectory.set(dir, (byDirectory.get(dir) ?? new Set()).add(path.basename(file)));
    }
    // Directories, not files: a CRL is published by renaming a new file over the old one.
    for (const [dir, names] of byDirectory) {
      this.#watchers.push(
        watch(dir, { persistent: false }, (_event, changed) => {
          if (changed !== null && !names.has(changed)) return;
          clearTimeout(this.#debounce);
          this.#debounce = setTimeout(() => this.reload(), 50);
        }),
      );
    }
  }
}
