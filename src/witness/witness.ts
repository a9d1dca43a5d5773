import { mkdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { parseCheckpoint, type TreeHead } from '../transparency/checkpoint.js';
import { EMPTY_ROOT, verifyConsistency } from '../transparency/merkle.js';
import { decodeBase64, NoteError, openNote, parseNote, signatureLine, type NoteSigner, type NoteVerifier } from '../transparency/note.js';

/**
 * A C2SP tlog-witness (https://c2sp.org/tlog-witness): it cosigns a log's checkpoint only if it
 * is signed by a log it knows and provably extends the last checkpoint it cosigned for that
 * origin. So two inconsistent histories can never both carry its cosignature, and a verifier that
 * demands a quorum of independent witnesses cannot be shown a fork or a rolled-back log.
 *
 * The latest size and root per origin live in SQLite; check and update are one IMMEDIATE
 * transaction, so concurrent requests cannot roll the state back (the race the spec describes).
 */

/** The spec's answers, as HTTP status and body. */
export interface WitnessResponse {
  readonly status: 200 | 400 | 403 | 404 | 409 | 422;
  readonly contentType: string;
  readonly body: string;
}

const MAX_PROOF_LINES = 63;
const MAX_BODY_BYTES = 64 * 1024;

export interface AddCheckpointRequest {
  readonly oldSize: number;
  readonly proof: readonly Buffer[];
  readonly checkpoint: string;
}

export class MalformedRequestError extends Error {
  readonly code = 'WITNESS_REQUEST_MALFORMED';
}

/** Parses the add-checkpoint body: `old N`, proof lines, an empty line, the checkpoint note. */
export function parseAddCheckpoint(body: string): AddCheckpointRequest {
  if (Buffer.byteLength(body) > MAX_BODY_BYTES) throw new MalformedRequestError('request body too large');
  const blank = body.indexOf('\n\n');
  if (blank < 0) throw new MalformedRequestError('expected the old size and proof lines, an empty line, then the checkpoint');
  const [oldLine, ...proofLines] = body.slice(0, blank).split('\n');
  const old = /^old (0|[1-9][0-9]*)$/.exec(oldLine ?? '');
  if (!old || !Number.isSafeInteger(Number(old[1]))) throw new MalformedRequestError('the first line is "old <size>"');
  if (proofLines.length > MAX_PROOF_LINES) throw new MalformedRequestError(`at most ${MAX_PROOF_LINES} proof lines`);
  const proof = proofLines.map((line) => {
    const hash = decodeBase64(line);
    if (hash?.length !== 32) throw new MalformedRequestError('each proof line is one base64 SHA-256 hash');
    return hash;
  });
  return { oldSize: Number(old[1]), proof, checkpoint: body.slice(blank + 2) };
}

const text = (status: WitnessResponse['status'], body: string): WitnessResponse => ({ status, contentType: 'text/plain; charset=utf-8', body: `${body}\n` });

export class Witness {
  private readonly db: Database.Database;
  private readonly get: Database.Statement;
  private readonly put: Database.Statement;

  constructor(
    private readonly signer: NoteSigner,
    private readonly logs: readonly NoteVerifier[],
    stateFile: string,
  ) {
    mkdirSync(path.dirname(stateFile), { recursive: true });
    this.db = new Database(stateFile);
    this.db.pragma('journal_mode = WAL');
    // The state is the witness's promise: a cosignature must never be answered before it is durable.
    this.db.pragma('synchronous = FULL');
    this.db.exec('CREATE TABLE IF NOT EXISTS witness_checkpoints (origin TEXT PRIMARY KEY, tree_size INTEGER NOT NULL, root_hash BLOB NOT NULL, note TEXT NOT NULL)');
    this.get = this.db.prepare('SELECT tree_size, root_hash FROM witness_checkpoints WHERE origin = ?');
    this.put = this.db.prepare(
      'INSERT INTO witness_checkpoints (origin, tree_size, root_hash, note) VALUES (?, ?, ?, ?) ON CONFLICT (origin) DO UPDATE SET tree_size = excluded.tree_size, root_hash = excluded.root_hash, note = excluded.note',
    );
  }

  get verifier(): NoteVerifier {
    return this.signer.verifier;
  }

  /** A log key named N covers origin N and N/<anything>: one key per operator, one tree per replica. */
  private logFor(origin: string): NoteVerifier | undefined {
    return this.logs.find((log) => origin === log.name || origin.startsWith(`${log.name}/`));
  }

  /** The latest cosigned size for an origin (0 if none). */
  latestSize(origin: string): number {
    return (this.get.get(origin) as { tree_size: number } | undefined)?.tree_size ?? 0;
  }

  addCheckpoint(body: string): WitnessResponse {
    let request: AddCheckpointRequest;
    let head: TreeHead;
    try {
      request = parseAddCheckpoint(body);
      head = parseCheckpoint(parseNote(request.checkpoint).text);
    } catch (error) {
      if (error instanceof MalformedRequestError || error instanceof NoteError) return text(400, error.message);
      throw error;
    }
    const log = this.logFor(head.origin);
    if (!log) return text(404, 'unknown log origin');
    let noteText: string;
    try {
      noteText = openNote(request.checkpoint, [log]).text;
    } catch (error) {
      if (error instanceof NoteError) return text(403, 'the checkpoint is not signed by the log');
      throw error;
    }
    if (request.oldSize > head.size) return text(400, 'the old size is larger than the checkpoint size');
    return this.db
      .transaction((): WitnessResponse => {
        const stored = this.get.get(head.origin) as { tree_size: number; root_hash: Buffer } | undefined;
        const storedSize = stored?.tree_size ?? 0;
        if (request.oldSize !== storedSize) return { status: 409, contentType: 'text/x.tlog.size', body: `${storedSize}\n` };
        if (request.oldSize === head.size) {
          // The same size again: only the same root may be cosigned, or the log has forked.
          if (stored && !stored.root_hash.equals(head.rootHash)) return text(409, 'a different root hash for the size already cosigned');
        } else if (request.oldSize === 0 ? request.proof.length > 0 : !verifyConsistency(request.oldSize, head.size, stored?.root_hash ?? EMPTY_ROOT, head.rootHash, request.proof)) {
          return text(422, 'the consistency proof does not verify');
        }
        this.put.run(head.origin, head.size, head.rootHash, request.checkpoint);
        return { status: 200, contentType: 'text/plain; charset=utf-8', body: signatureLine(this.signer, this.signer.sign(noteText)) };
      })
      .immediate();
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
