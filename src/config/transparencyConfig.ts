import { createPrivateKey, X509Certificate } from 'node:crypto';
import { existsSync, linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
import { hostname } from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { ConfigError, envField, parseEnv } from './parseEnv.js';
import { DEFAULT_CERTS_DIR, DEFAULT_DATA_DIR, resolveFromRoot } from './paths.js';
import {
  formatSignerKey,
  formatVerifierKey,
  generateSeed,
  NoteError,
  parseSignerKey,
  parseVerifierKey,
  SIG_COSIGNATURE_V1,
  SIG_ED25519,
  type NoteSigner,
  type NoteVerifier,
  type SignatureType,
} from '../transparency/note.js';

/**
 * The access log as a transparency log (docs/access-log.md): the log's Ed25519 note key, the
 * witnesses that cosign its checkpoints and the quorum a verifier demands; and, for
 * `npm run witness`, the witness's own settings. Key files hold a signer key in the Go note
 * format (`PRIVATE+KEY+name+hash+base64`); a missing one is generated on first start, with the
 * public verifier key written beside it (`<file>.pub`) for publishing.
 */

export interface WitnessEndpoint {
  /** The add-checkpoint URL prefix (the witness's submission prefix). */
  readonly url: string;
  /** The witness's key name: the quorum counts witnesses by it. */
  readonly name: string;
  /** Its verifier keys, all with that name: the current one and any it rotated from (docs/access-log.md, key rotation). */
  readonly verifiers: readonly NoteVerifier[];
}

export interface TransparencyConfig {
  readonly logKeyPath: string;
  /** Key name used when the key is generated; the origin of each chain's tree is `<name>/<chainId>`. */
  readonly logName: string;
  readonly treeHeadIntervalMs: number;
  readonly witnesses: readonly WitnessEndpoint[];
  /** Cosignatures a checkpoint needs before a verifier accepts it. */
  readonly quorum: number;
  readonly witnessTimeoutMs: number;
  /** CA certificates (PEM file) the witnesses' HTTPS server certificates must chain to: the federation CA unless AUDIT_WITNESS_CA_PATH says otherwise. */
  readonly witnessCaPath: string;
}

const KEY_NAME = /^[^\s+]{1,128}$/;

/**
 * `URL VKEY [VKEY ...];URL VKEY`: a vkey holds + / =, so neither a comma nor a colon can separate
 * them. Several keys of one witness (a rotation: the new key and the old ones) share its name.
 * Plain `http://` only when `allowPlainHttp` (development): elsewhere the gateway would tell an
 * on-path attacker which checkpoints it publishes, and accept its refusals as the witness's.
 */
export function parseWitnessList(variable: string, raw: string, options: { readonly allowPlainHttp?: boolean } = {}): WitnessEndpoint[] {
  const problems: string[] = [];
  const witnesses: WitnessEndpoint[] = [];
  for (const [i, item] of raw
    .split(';')
    .map((s) => s.trim())
    .filter(Boolean)
    .entries()) {
    const [url, ...vkeys] = item.split(/\s+/);
    if (!url || vkeys.length === 0 || !/^https?:\/\/[^\s]+$/.test(url)) {
      problems.push(`${variable}: witness ${i + 1}: expected "URL VKEY [VKEY ...]" (an https URL, a space, the witness's verifier key or keys)`);
      continue;
    }
    if (url.startsWith('http://') && !options.allowPlainHttp) {
      problems.push(`${variable}: witness ${i + 1}: plain http:// is for GATEWAY_MODE=development only; use https:// (the witness serves TLS: WITNESS_TLS_CERT_PATH)`);
      continue;
    }
    try {
      const verifiers = vkeys.map((vkey) => {
        const verifier = parseVerifierKey(vkey);
        if (verifier.type !== SIG_COSIGNATURE_V1) throw new NoteError('NOTE_KEY_MALFORMED', 'a witness key has signature type 0x04 (cosignature/v1)');
        return verifier;
      });
      const name = verifiers[0]!.name;
      if (verifiers.some((v) => v.name !== name)) throw new NoteError('NOTE_KEY_MALFORMED', 'the keys of one witness share its name (a rotated key keeps the name)');
      if (new Set(verifiers.map((v) => v.keyId.toString('hex'))).size !== verifiers.length) throw new NoteError('NOTE_KEY_MALFORMED', 'a key is listed twice');
      witnesses.push({ url: url.replace(/\/+$/, ''), name, verifiers });
    } catch (error) {
      if (!(error instanceof NoteError)) throw error;
      problems.push(`${variable}: witness ${i + 1}: ${error.message}`);
    }
  }
  const names = witnesses.map((w) => w.name);
  if (new Set(names).size !== names.length) problems.push(`${variable}: each witness must have its own key name`);
  if (problems.length > 0) throw new ConfigError(problems);
  return witnesses;
}

/** Every witness key (current and rotated-from), for verifying cosignatures. */
export function witnessVerifiers(witnesses: readonly WitnessEndpoint[]): NoteVerifier[] {
  return witnesses.flatMap((w) => w.verifiers);
}

/** Reads and validates AUDIT_TLOG_*, AUDIT_WITNESSES, AUDIT_WITNESS_QUORUM and AUDIT_WITNESS_CA_PATH. Reads no files. */
export function loadTransparencyConfig(env: NodeJS.ProcessEnv = process.env): TransparencyConfig {
  const raw = parseEnv(
    {
      CERTS_DIR: envField.string(DEFAULT_CERTS_DIR),
      GATEWAY_MODE: envField.enumOf(['production', 'development'] as const, 'production'),
      AUDIT_TLOG_KEY_PATH: envField.optionalString(),
      AUDIT_TLOG_NAME: z.string().regex(KEY_NAME, 'expected a key name without spaces or +, e.g. access-log.exchange.example').default('access-log.exchange.example'),
      AUDIT_TLOG_INTERVAL_MS: envField.positiveInt(1000),
      AUDIT_WITNESSES: z.string().default(''),
      AUDIT_WITNESS_QUORUM: z.string().regex(/^\d+$/, 'expected a whole number ≥ 0').optional(),
      AUDIT_WITNESS_TIMEOUT_MS: envField.positiveInt(5000),
      AUDIT_WITNESS_CA_PATH: envField.optionalString(),
    },
    env,
  );
  const witnesses = parseWitnessList('AUDIT_WITNESSES', raw.AUDIT_WITNESSES, { allowPlainHttp: raw.GATEWAY_MODE === 'development' });
  // With witnesses configured, every one of them by default: a smaller quorum is a decision to write down.
  const quorum = raw.AUDIT_WITNESS_QUORUM === undefined ? witnesses.length : Number(raw.AUDIT_WITNESS_QUORUM);
  if (quorum > witnesses.length) {
    throw new ConfigError([`AUDIT_WITNESS_QUORUM: ${quorum} is more than the ${witnesses.length} witness(es) in AUDIT_WITNESSES`]);
  }
  return {
    logKeyPath: resolveFromRoot(raw.AUDIT_TLOG_KEY_PATH ?? path.join(resolveFromRoot(raw.CERTS_DIR), 'access-log-note.key')),
    logName: raw.AUDIT_TLOG_NAME,
    treeHeadIntervalMs: raw.AUDIT_TLOG_INTERVAL_MS,
    witnesses,
    quorum,
    witnessTimeoutMs: raw.AUDIT_WITNESS_TIMEOUT_MS,
    witnessCaPath: resolveFromRoot(raw.AUDIT_WITNESS_CA_PATH ?? path.join(resolveFromRoot(raw.CERTS_DIR), 'ca.crt')),
  };
}

/** The witnesses' CA, read once at start when an https witness is configured; a missing file fails start-up naming the variable. */
export function readWitnessCa(config: TransparencyConfig): Buffer | undefined {
  if (!config.witnesses.some((w) => w.url.startsWith('https://'))) return undefined;
  try {
    return readFileSync(config.witnessCaPath);
  } catch (error) {
    throw new ConfigError([`AUDIT_WITNESS_CA_PATH: cannot read ${config.witnessCaPath} (${(error as NodeJS.ErrnoException).code ?? 'error'})`]);
  }
}

/**
 * The note signer in `file`, generated (with `name` and `type`) when the file does not exist.
 * The private key file is made readable by its owner only.
 */
export function loadOrCreateNoteSigner(variable: string, file: string, name: string, type: SignatureType): NoteSigner {
  if (!existsSync(file)) {
    mkdirSync(path.dirname(file), { recursive: true });
    const skey = formatSignerKey(name, type, generateSeed());
    // Written aside and linked into place: two processes starting together keep one key, the first one's.
    const temporary = `${file}.${process.pid}.tmp`;
    writeFileSync(temporary, `${skey}\n`, { mode: 0o600 });
    try {
      linkSync(temporary, file);
      writeFileSync(`${file}.pub`, `${formatVerifierKey(parseSignerKey(skey).verifier)}\n`);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    } finally {
      unlinkSync(temporary);
    }
  }
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError([`${variable}: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? 'error'})`]);
  }
  try {
    const signer = parseSignerKey(text.trim());
    if (signer.type !== type) throw new NoteError('NOTE_KEY_MALFORMED', `expected a key of signature type 0x0${type}`);
    return signer;
  } catch (error) {
    if (error instanceof NoteError) throw new ConfigError([`${variable}: ${file}: ${error.message}`]);
    throw error;
  }
}

export function loadLogNoteSigner(config: TransparencyConfig): NoteSigner {
  return loadOrCreateNoteSigner('AUDIT_TLOG_KEY_PATH', config.logKeyPath, config.logName, SIG_ED25519);
}

/**
 * The log's verifier key for checking its tree heads: the published `<key file>.pub`, else the
 * key file's public half; null when neither exists (the heads' signatures then go unchecked).
 */
export function loadLogVerifier(config: TransparencyConfig): NoteVerifier | null {
  if (existsSync(`${config.logKeyPath}.pub`)) {
    const [verifier] = readVerifierKeys('AUDIT_TLOG_KEY_PATH', [`${config.logKeyPath}.pub`]);
    if (verifier) return verifier;
  }
  return existsSync(config.logKeyPath) ? loadLogNoteSigner(config).verifier : null;
}

/** Verifier keys given on the command line or in a file (one per line), for offline verification. */
export function readVerifierKeys(argument: string, values: readonly string[]): NoteVerifier[] {
  const keys: NoteVerifier[] = [];
  for (const value of values) {
    const lines = existsSync(value) ? readFileSync(value, 'utf8').split('\n') : [value];
    for (const line of lines.map((l) => l.trim()).filter(Boolean)) {
      try {
        keys.push(parseVerifierKey(line));
      } catch (error) {
        if (error instanceof NoteError) throw new ConfigError([`${argument}: ${error.message}`]);
        throw error;
      }
    }
  }
  return keys;
}

export interface WitnessServiceConfig {
  readonly keyPath: string;
  readonly name: string;
  readonly statePath: string;
  readonly host: string;
  readonly port: number;
  /** The logs this witness cosigns for: their verifier keys; a checkpoint's origin must be `<key name>` or start with `<key name>/`. */
  readonly logs: readonly NoteVerifier[];
  /** The HTTPS server certificate and key, read and checked at start; null only for WITNESS_PLAIN_HTTP in development. */
  readonly tls: { readonly cert: Buffer; readonly key: Buffer; readonly certPath: string } | null;
  /** Verifier keys this witness rotated away from (WITNESS_PREVIOUS_KEYS): published at /verifier-key after the current one. */
  readonly previousKeys: readonly NoteVerifier[];
}

function parseKeyList(variable: string, raw: string, type: SignatureType, problems: string[]): NoteVerifier[] {
  const keys: NoteVerifier[] = [];
  for (const vkey of raw.split(/[;\s]+/).filter(Boolean)) {
    try {
      const verifier = parseVerifierKey(vkey);
      if (verifier.type !== type)
        throw new NoteError('NOTE_KEY_MALFORMED', type === SIG_ED25519 ? 'a log key has signature type 0x01 (Ed25519)' : 'a witness key has signature type 0x04 (cosignature/v1)');
      keys.push(verifier);
    } catch (error) {
      if (!(error instanceof NoteError)) throw error;
      problems.push(`${variable}: ${error.message}`);
    }
  }
  return keys;
}

/** Reads and validates WITNESS_* for `npm run witness`, including the TLS certificate and key files. */
export function loadWitnessServiceConfig(env: NodeJS.ProcessEnv = process.env): WitnessServiceConfig {
  const raw = parseEnv(
    {
      DATA_DIR: envField.string(DEFAULT_DATA_DIR),
      CERTS_DIR: envField.string(DEFAULT_CERTS_DIR),
      WITNESS_MODE: envField.enumOf(['production', 'development'] as const, 'production'),
      WITNESS_NAME: z.string().regex(KEY_NAME, 'expected a key name without spaces or +, e.g. witness.imy.example/w1').default(`witness.${hostname()}`.slice(0, 128)),
      WITNESS_KEY_PATH: envField.optionalString(),
      WITNESS_PREVIOUS_KEYS: envField.string(''),
      WITNESS_STATE_PATH: envField.optionalString(),
      WITNESS_HOST: envField.string('127.0.0.1'),
      WITNESS_PORT: envField.port(7380),
      WITNESS_LOGS: envField.string(''),
      WITNESS_TLS_CERT_PATH: envField.optionalString(),
      WITNESS_TLS_KEY_PATH: envField.optionalString(),
      WITNESS_PLAIN_HTTP: envField.enumOf(['true', 'false'] as const, 'false'),
    },
    env,
  );
  const dataDir = resolveFromRoot(raw.DATA_DIR);
  const problems: string[] = [];
  const logs = parseKeyList('WITNESS_LOGS', raw.WITNESS_LOGS, SIG_ED25519, problems);
  if (logs.length === 0 && problems.length === 0) problems.push('WITNESS_LOGS: at least one log verifier key is required (the gateway writes it to AUDIT_TLOG_KEY_PATH.pub when it generates its key)');
  const previousKeys = parseKeyList('WITNESS_PREVIOUS_KEYS', raw.WITNESS_PREVIOUS_KEYS, SIG_COSIGNATURE_V1, problems);
  if (previousKeys.some((key) => key.name !== raw.WITNESS_NAME)) problems.push(`WITNESS_PREVIOUS_KEYS: a rotated key keeps the witness's name (${raw.WITNESS_NAME})`);
  let tls: WitnessServiceConfig['tls'] = null;
  if (raw.WITNESS_PLAIN_HTTP === 'true') {
    if (raw.WITNESS_MODE !== 'development') problems.push('WITNESS_PLAIN_HTTP: plain HTTP is for WITNESS_MODE=development only');
  } else {
    const servers = path.join(resolveFromRoot(raw.CERTS_DIR), 'servers');
    const certPath = resolveFromRoot(raw.WITNESS_TLS_CERT_PATH ?? path.join(servers, 'witness.crt'));
    const keyPath = resolveFromRoot(raw.WITNESS_TLS_KEY_PATH ?? path.join(servers, 'witness.key'));
    const read = (variable: string, file: string): Buffer | null => {
      try {
        return readFileSync(file);
      } catch (error) {
        problems.push(`${variable}: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? 'error'}); npm run certs makes the development one`);
        return null;
      }
    };
    const cert = read('WITNESS_TLS_CERT_PATH', certPath);
    const key = read('WITNESS_TLS_KEY_PATH', keyPath);
    if (cert && key) {
      try {
        // The pair must belong together and parse: a broken pair would otherwise fail every handshake, not the start.
        createSecureContext({ cert, key });
        if (!new X509Certificate(cert).checkPrivateKey(createPrivateKey(key))) throw new Error('mismatch');
        tls = { cert, key, certPath };
      } catch {
        problems.push(`WITNESS_TLS_CERT_PATH, WITNESS_TLS_KEY_PATH: ${certPath} and ${keyPath} are not a PEM certificate and its private key`);
      }
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return {
    keyPath: resolveFromRoot(raw.WITNESS_KEY_PATH ?? path.join(dataDir, 'witness', 'witness.key')),
    name: raw.WITNESS_NAME,
    statePath: resolveFromRoot(raw.WITNESS_STATE_PATH ?? path.join(dataDir, 'witness', 'witness-state.db')),
    host: raw.WITNESS_HOST,
    port: raw.WITNESS_PORT,
    logs,
    tls,
    previousKeys,
  };
}
