import { decodeBase64, NoteError } from './note.js';
import { HASH_SIZE } from './merkle.js';

/**
 * The C2SP checkpoint (https://c2sp.org/tlog-checkpoint): a signed note whose text is the
 * origin, the tree size and the base64 root hash, one per line. No extension lines: the spec
 * advises against them, and a witness makes no statement about them.
 */
export interface TreeHead {
  readonly origin: string;
  readonly size: number;
  readonly rootHash: Buffer;
}

export function formatCheckpoint(head: TreeHead): string {
  if (head.origin.length === 0 || /[\s+]/u.test(head.origin)) throw new NoteError('NOTE_MALFORMED', 'an origin is non-empty, without spaces or +');
  if (!Number.isSafeInteger(head.size) || head.size < 0) throw new RangeError('a tree size is a whole number ≥ 0');
  if (head.rootHash.length !== HASH_SIZE) throw new RangeError('a root hash is 32 bytes');
  return `${head.origin}\n${head.size}\n${head.rootHash.toString('base64')}\n`;
}

export function parseCheckpoint(text: string): TreeHead {
  const lines = text.split('\n');
  // Three lines and the empty string after the final newline.
  if (lines.length !== 4 || lines[3] !== '') throw new NoteError('NOTE_MALFORMED', 'a checkpoint is origin, size and root hash lines');
  const [origin, sizeLine, rootLine] = lines as [string, string, string];
  if (origin.length === 0 || !/^(0|[1-9][0-9]*)$/.test(sizeLine)) throw new NoteError('NOTE_MALFORMED', 'a checkpoint has an origin and a decimal size without leading zeros');
  const size = Number(sizeLine);
  const rootHash = decodeBase64(rootLine);
  if (!Number.isSafeInteger(size) || !rootHash || rootHash.length !== HASH_SIZE) throw new NoteError('NOTE_MALFORMED', 'a checkpoint has a size and a base64 32-byte root hash');
  return { origin, size, rootHash };
}
