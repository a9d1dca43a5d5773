import { NoteError, openNote, signNote, type NoteSigner, type NoteVerifier } from '../transparency/note.js';
import type { PurgeClaims } from './checkpoint.js';
import { treeOrigin } from './logTree.js';

/**
 * A purge as a signed note (c2sp.org/signed-note) by the log's note key:
 *
 *   access-log-purge/v1
 *   <origin: log name/chainId>
 *   <uptoSeq>
 *   <headHash>
 *   <time>
 *
 * The JWS purge record stays the chain's anchor for the verifier inside (it rests on the
 * gateway's signing key); this note is what a citizen's report carries, so an entry an earlier
 * report proved and a later one lacks is told apart: purged under the retention rules (the log
 * signed that it removed everything up to uptoSeq), or removed (ENTRY_REMOVED).
 */
export const PURGE_NOTE_HEADER = 'access-log-purge/v1';

export function signPurgeNote(purge: PurgeClaims, signer: NoteSigner): string {
  return signNote(`${PURGE_NOTE_HEADER}\n${treeOrigin(signer.name, purge.chainId)}\n${purge.uptoSeq}\n${purge.headHash}\n${purge.time}\n`, [signer]);
}

/** The chain and seq a purge note signed by `log` says were purged up to; null if it is not one. */
export function readPurgeNote(note: string, log: NoteVerifier): { readonly chainId: string; readonly uptoSeq: number } | null {
  let text: string;
  try {
    text = openNote(note, [log]).text;
  } catch (error) {
    if (error instanceof NoteError) return null;
    throw error;
  }
  const [header, origin, uptoSeq, headHash, time, end, ...rest] = text.split('\n');
  const prefix = `${log.name}/`;
  if (header !== PURGE_NOTE_HEADER || !origin?.startsWith(prefix) || !/^[1-9]\d{0,15}$/.test(uptoSeq ?? '') || !headHash || !time || end !== '' || rest.length > 0) return null;
  return { chainId: origin.slice(prefix.length), uptoSeq: Number(uptoSeq) };
}
