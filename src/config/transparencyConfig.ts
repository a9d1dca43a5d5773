import { existsSync, linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
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
  readonly verifier: NoteVerifier;
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
}

const KEY_NAME = /^[^\s+]{1,128}$/;

/** `URL VKEY;URL VKEY`: a vkey holds + / =, so neither a comma nor a colon can separate them. */
export function parseWitnessList(variable: string, raw: string): WitnessEndpoint[] {
  const problems: string[] = [];
  const witnesses: WitnessEndpoint[] = [];
  for (const [i, item] of raw
    .split(';')
    .map((s) => s.trim())
    .filter(Boolean)
    .entries()) {
    const [url, vkey, ...rest] = item.split(/\s+/);
    if (!url || !vkey || rest.length > 0 || !/^https?:\/\/[^\s]+$/.test(url)) {
      problems.push(`${variable}: witness ${i + 1}: expected "URL VKEY" (an http(s) URL, a space, the witness's verifier key)`);
      continue;
    }
    try {
      const verifier = parseVerifierKey(vkey);
      if (verifier.type !== SIG_COSIGNATURE_V1) throw new NoteError('NOTE_KEY_MALFORMED', 'a witness key has signature type 0x04 (cosignature/v1)');
      witnesses.push({ url: url.replace(/\/+$/, ''), verifier });
    } catch (error) {
      if (!(error instanceof NoteError)) throw error;
      problems.push(`${variable}: witness ${i + 1}: ${error.message}`);
    }
  }
  const names = witnesses.map((w) => w.verifier.name);
  if (new Set(names).size !== names.length) problems.push(`${variable}: each witness must have its own key name`);
  if (problems.length > 0) throw new ConfigError(problems);
  return witnesses;
}

/** Reads and validates AUDIT_TLOG_*, AUDIT_WITNESSES and AUDIT_WITNESS_QUORUM. Reads no files. */
export function loadTransparencyConfig(env: NodeJS.ProcessEnv = process.env): TransparencyConfig {
  const raw = parseEnv(
    {
      CERTS_DIR: envField.string(DEFAULT_CERTS_DIR),
      AUDIT_TLOG_KEY_PATH: envField.optionalString(),
      AUDIT_TLOG_NAME: z.string().regex(KEY_NAME, 'expected a key name without spaces or +, e.g. access-log.exchange.example').default('access-log.exchange.example'),
      AUDIT_TLOG_INTERVAL_MS: envField.positiveInt(1000),
      AUDIT_WITNESSES: z.string().default(''),
      AUDIT_WITNESS_QUORUM: z.string().regex(/^\d+$/, 'expected a whole number ≥ 0').optional(),
      AUDIT_WITNESS_TIMEOUT_MS: envField.positiveInt(5000),
    },
    env,
  );
  const witnesses = parseWitnessList('AUDIT_WITNESSES', raw.AUDIT_WITNESSES);
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
  };
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
}

/** Reads and validates WITNESS_* for `npm run witness`. */
export function loadWitnessServiceConfig(env: NodeJS.ProcessEnv = process.env): WitnessServiceConfig {
  const raw = parseEnv(
    {
      DATA_DIR: envField.string(DEFAULT_DATA_DIR),
      WITNESS_NAME: z.string().regex(KEY_NAME, 'expected a key name without spaces or +, e.g. witness.imy.example/w1').default(`witness.${hostname()}`.slice(0, 128)),
      WITNESS_KEY_PATH: envField.optionalString(),
      WITNESS_STATE_PATH: envField.optionalString(),
      WITNESS_HOST: envField.string('127.0.0.1'),
      WITNESS_PORT: envField.port(7380),
      WITNESS_LOGS: envField.string(''),
    },
    env,
  );
  const dataDir = resolveFromRoot(raw.DATA_DIR);
  const logs: NoteVerifier[] = [];
  const problems: string[] = [];
  for (const vkey of raw.WITNESS_LOGS.split(/[;\s]+/).filter(Boolean)) {
    try {
      const verifier = parseVerifierKey(vkey);
      if (verifier.type !== SIG_ED25519) throw new NoteError('NOTE_KEY_MALFORMED', 'a log key has signature type 0x01 (Ed25519)');
      logs.push(verifier);
    } catch (error) {
      if (!(error instanceof NoteError)) throw error;
      problems.push(`WITNESS_LOGS: ${error.message}`);
    }
  }
  if (logs.length === 0 && problems.length === 0) problems.push('WITNESS_LOGS: at least one log verifier key is required (the gateway writes it to AUDIT_TLOG_KEY_PATH.pub when it generates its key)');
  if (problems.length > 0) throw new ConfigError(problems);
  return {
    keyPath: resolveFromRoot(raw.WITNESS_KEY_PATH ?? path.join(dataDir, 'witness', 'witness.key')),
    name: raw.WITNESS_NAME,
    statePath: resolveFromRoot(raw.WITNESS_STATE_PATH ?? path.join(dataDir, 'witness', 'witness-state.db')),
    host: raw.WITNESS_HOST,
    port: raw.WITNESS_PORT,
    logs,
  };
}
