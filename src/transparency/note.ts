import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';

/**
 * C2SP signed notes (https://c2sp.org/signed-note) with Ed25519 keys, and the Ed25519 witness
 * cosignature of https://c2sp.org/tlog-cosignature (cosignature/v1, signature type 0x04). The
 * byte formats follow golang.org/x/mod/sumdb/note, so any verifier of that ecosystem (sigsum,
 * the Go checksum database's tools, transparency-dev's witnesses) reads what we sign.
 */

export type NoteErrorCode = 'NOTE_MALFORMED' | 'NOTE_KEY_MALFORMED' | 'NOTE_SIGNATURE_INVALID' | 'NOTE_UNVERIFIED';

export class NoteError extends Error {
  constructor(
    readonly code: NoteErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'NoteError';
  }
}

/** Signature type bytes of the signed-note registry. */
export const SIG_ED25519 = 0x01;
export const SIG_COSIGNATURE_V1 = 0x04;
export type SignatureType = typeof SIG_ED25519 | typeof SIG_COSIGNATURE_V1;

const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
const ED25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const EM_DASH = '\u2014';

function checkKeyName(name: string): void {
  // The name is part of the key id and of each signature line: a space or + would make lines and vkeys ambiguous.
  // biome-ignore lint/suspicious/noControlCharactersInRegex: C2SP signed-note key names may not hold control characters; this pattern refuses them
  if (name.length === 0 || /[\s+]/u.test(name) || /[\u0000-\u001f]/.test(name)) {
    throw new NoteError('NOTE_KEY_MALFORMED', 'a key name must be non-empty, without spaces or +');
  }
}

/** SHA-256(name ‖ 0x0A ‖ type ‖ public key)[:4], big-endian. */
export function keyId(name: string, type: SignatureType, publicKey: Uint8Array): Buffer {
  return createHash('sha256')
    .update(name, 'utf8')
    .update(Buffer.from([0x0a, type]))
    .update(publicKey)
    .digest()
    .subarray(0, 4);
}

function publicKeyObject(raw: Uint8Array): KeyObject {
  if (raw.length !== 32) throw new NoteError('NOTE_KEY_MALFORMED', 'an Ed25519 public key is 32 bytes');
  return createPublicKey({ key: Buffer.concat([ED25519_SPKI_PREFIX, raw]), format: 'der', type: 'spki' });
}

function rawPublicKey(key: KeyObject): Buffer {
  return Buffer.from(key.export({ format: 'der', type: 'spki' }).subarray(ED25519_SPKI_PREFIX.length));
}

/** Knows the key, checks signatures over a note text. */
export interface NoteVerifier {
  readonly name: string;
  readonly keyId: Buffer;
  readonly type: SignatureType;
  readonly publicKey: Buffer;
  /** `signature` without the 4-byte key id. */
  verify(text: string, signature: Buffer): boolean;
}

export interface NoteSigner {
  readonly name: string;
  readonly keyId: Buffer;
  readonly type: SignatureType;
  /** The signature bytes without the key id. */
  sign(text: string): Buffer;
  readonly verifier: NoteVerifier;
}

/** The message a cosignature/v1 signs: a header, the time, then the checkpoint text. */
export function cosignedMessage(text: string, timestamp: number): string {
  return `cosignature/v1\ntime ${timestamp}\n${text}`;
}

function verifierFor(name: string, type: SignatureType, publicKey: Buffer): NoteVerifier {
  checkKeyName(name);
  const key = publicKeyObject(publicKey);
  const id = keyId(name, type, publicKey);
  return {
    name,
    keyId: id,
    type,
    publicKey,
    verify(text, signature) {
      try {
        if (type === SIG_ED25519) return signature.length === 64 && verify(null, Buffer.from(text, 'utf8'), key, signature);
        if (signature.length !== 72) return false;
        const timestamp = signature.readBigUInt64BE(0);
        if (timestamp >= 2n ** 63n) return false;
        return verify(null, Buffer.from(cosignedMessage(text, Number(timestamp)), 'utf8'), key, signature.subarray(8));
      } catch {
        return false;
      }
    },
  };
}

/**
 * A signer from a 32-byte Ed25519 seed. `type` SIG_ED25519 signs notes (the log's checkpoints);
 * SIG_COSIGNATURE_V1 cosigns checkpoints (a witness), prefixing the time as the spec says.
 */
export function noteSigner(name: string, type: SignatureType, seed: Uint8Array, now: () => Date = () => new Date()): NoteSigner {
  checkKeyName(name);
  if (seed.length !== 32) throw new NoteError('NOTE_KEY_MALFORMED', 'an Ed25519 seed is 32 bytes');
  const privateKey = createPrivateKey({ key: Buffer.concat([ED25519_PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' });
  const publicKey = rawPublicKey(createPublicKey(privateKey));
  const verifier = verifierFor(name, type, publicKey);
  return {
    name,
    keyId: verifier.keyId,
    type,
    verifier,
    sign(text) {
      if (type === SIG_ED25519) return sign(null, Buffer.from(text, 'utf8'), privateKey);
      const timestamp = Math.floor(now().getTime() / 1000);
      const prefix = Buffer.alloc(8);
      prefix.writeBigUInt64BE(BigInt(timestamp));
      return Buffer.concat([prefix, sign(null, Buffer.from(cosignedMessage(text, timestamp), 'utf8'), privateKey)]);
    },
  };
}

export function generateSeed(): Buffer {
  const { privateKey } = generateKeyPairSync('ed25519');
  return Buffer.from(privateKey.export({ format: 'der', type: 'pkcs8' }).subarray(ED25519_PKCS8_PREFIX.length));
}

const STRICT_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Base64 that round-trips exactly: a lenient decoder would accept many spellings of one signature. */
export function decodeBase64(text: string): Buffer | null {
  if (!STRICT_BASE64.test(text)) return null;
  const bytes = Buffer.from(text, 'base64');
  return bytes.toString('base64') === text ? bytes : null;
}

/** A verifier key `name+hex(keyId)+base64(type ‖ public key)`, as published for a log or a witness. */
export function formatVerifierKey(verifier: Pick<NoteVerifier, 'name' | 'keyId' | 'type' | 'publicKey'>): string {
  return `${verifier.name}+${verifier.keyId.toString('hex')}+${Buffer.concat([Buffer.from([verifier.type]), verifier.publicKey]).toString('base64')}`;
}

export function parseVerifierKey(vkey: string): NoteVerifier {
  const match = /^([^+\s]+)\+([0-9a-f]{8})\+([A-Za-z0-9+/=]+)$/.exec(vkey);
  const bytes = match ? decodeBase64(match[3]!) : null;
  if (!match || !bytes || bytes.length !== 33) throw new NoteError('NOTE_KEY_MALFORMED', 'a verifier key is name+hex8+base64(type ‖ 32-byte key)');
  const type = bytes[0];
  if (type !== SIG_ED25519 && type !== SIG_COSIGNATURE_V1) throw new NoteError('NOTE_KEY_MALFORMED', `signature type 0x${type?.toString(16)} is not supported`);
  const verifier = verifierFor(match[1]!, type, bytes.subarray(1));
  if (verifier.keyId.toString('hex') !== match[2]) throw new NoteError('NOTE_KEY_MALFORMED', 'the key hash does not match the key');
  return verifier;
}

/** A signer key `PRIVATE+KEY+name+hex(keyId)+base64(type ‖ seed)`, the Go note tool's format. */
export function formatSignerKey(name: string, type: SignatureType, seed: Uint8Array): string {
  const signer = noteSigner(name, type, seed);
  return `PRIVATE+KEY+${name}+${signer.keyId.toString('hex')}+${Buffer.concat([Buffer.from([type]), seed]).toString('base64')}`;
}

export function parseSignerKey(skey: string, now?: () => Date): NoteSigner {
  const match = /^PRIVATE\+KEY\+([^+\s]+)\+([0-9a-f]{8})\+([A-Za-z0-9+/=]+)$/.exec(skey.trim());
  const bytes = match ? decodeBase64(match[3]!) : null;
  if (!match || !bytes || bytes.length !== 33) throw new NoteError('NOTE_KEY_MALFORMED', 'a signer key is PRIVATE+KEY+name+hex8+base64(type ‖ 32-byte seed)');
  const type = bytes[0];
  if (type !== SIG_ED25519 && type !== SIG_COSIGNATURE_V1) throw new NoteError('NOTE_KEY_MALFORMED', `signature type 0x${type?.toString(16)} is not supported`);
  const signer = noteSigner(match[1]!, type, bytes.subarray(1), now);
  if (signer.keyId.toString('hex') !== match[2]) throw new NoteError('NOTE_KEY_MALFORMED', 'the key hash does not match the key');
  return signer;
}

export interface NoteSignature {
  readonly name: string;
  readonly keyId: Buffer;
  /** Without the key id. */
  readonly signature: Buffer;
}

export interface ParsedNote {
  readonly text: string;
  readonly signatures: readonly NoteSignature[];
}

/** Bounded, as the spec asks of verifiers; far above a log key plus any sensible witness set. */
export const MAX_SIGNATURES = 100;

export function signatureLine(signer: Pick<NoteSigner, 'name' | 'keyId'>, signature: Buffer): string {
  return `${EM_DASH} ${signer.name} ${Buffer.concat([signer.keyId, signature]).toString('base64')}\n`;
}

/** Parses signature lines only (a witness's add-checkpoint answer). */
export function parseSignatureLines(block: string): NoteSignature[] {
  if (!block.endsWith('\n')) throw new NoteError('NOTE_MALFORMED', 'signature lines end with a newline');
  const lines = block.slice(0, -1).split('\n');
  if (lines.length > MAX_SIGNATURES) throw new NoteError('NOTE_MALFORMED', `more than ${MAX_SIGNATURES} signatures`);
  return lines.map((line) => {
    const match = /^\u2014 (\S+) (\S+)$/u.exec(line);
    const bytes = match ? decodeBase64(match[2]!) : null;
    if (!match || !bytes || bytes.length < 5 || match[1]!.includes('+')) throw new NoteError('NOTE_MALFORMED', 'a signature line is "— name base64(keyId ‖ signature)"');
    return { name: match[1]!, keyId: bytes.subarray(0, 4), signature: bytes.subarray(4) };
  });
}

export function parseNote(note: string): ParsedNote {
  // eslint-disable-next-line no-control-regex
  // biome-ignore lint/suspicious/noControlCharactersInRegex: a C2SP signed note may hold no control character but newline; this pattern refuses them
  if (/[\u0000-\u0009\u000b-\u001f]/.test(note)) throw new NoteError('NOTE_MALFORMED', 'a note contains no control characters but newline');
  const split = note.lastIndexOf('\n\n');
  if (split < 0) throw new NoteError('NOTE_MALFORMED', 'a note is text, a blank line, then signature lines');
  return { text: note.slice(0, split + 1), signatures: parseSignatureLines(note.slice(split + 2)) };
}

export function signNote(text: string, signers: readonly NoteSigner[]): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: a C2SP signed note may hold no control character but newline; this pattern refuses them
  if (!text.endsWith('\n') || text.includes('\n\n') || /[\u0000-\u0009\u000b-\u001f]/.test(text)) {
    throw new NoteError('NOTE_MALFORMED', 'a note text ends in a newline and has no blank line or control characters');
  }
  return `${text}\n${signers.map((signer) => signatureLine(signer, signer.sign(text))).join('')}`;
}

/** Adds signature lines to a signed note, keeping the ones it has. */
export function addSignatures(note: string, lines: readonly NoteSignature[]): string {
  const parsed = parseNote(note);
  const present = new Set(parsed.signatures.map((s) => `${s.name} ${s.keyId.toString('hex')}`));
  const added = lines.filter((s) => !present.has(`${s.name} ${s.keyId.toString('hex')}`));
  return note + added.map((s) => signatureLine(s, s.signature)).join('');
}

export interface VerifiedNote {
  readonly text: string;
  /** The known keys whose signatures verified, in note order. */
  readonly verifiedBy: readonly NoteVerifier[];
}

/**
 * Opens a note with the known keys. Per the spec: unknown signatures are ignored, a known key's
 * signature that fails rejects the whole note, and a note no known key signed is rejected.
 */
export function openNote(note: string, known: readonly NoteVerifier[]): VerifiedNote {
  const parsed = parseNote(note);
  const verifiedBy: NoteVerifier[] = [];
  for (const signature of parsed.signatures) {
    const verifier = known.find((k) => k.name === signature.name && k.keyId.equals(signature.keyId));
    if (!verifier) continue;
    if (!verifier.verify(parsed.text, signature.signature)) throw new NoteError('NOTE_SIGNATURE_INVALID', `the signature of ${signature.name} does not verify`);
    if (!verifiedBy.includes(verifier)) verifiedBy.push(verifier);
  }
  if (verifiedBy.length === 0) throw new NoteError('NOTE_UNVERIFIED', 'no known key signed this note');
  return { text: parsed.text, verifiedBy };
}

/** The time a cosignature/v1 line carries, in POSIX seconds. */
export function cosignatureTime(signature: Buffer): number | null {
  return signature.length === 72 ? Number(signature.readBigUInt64BE(0)) : null;
}
