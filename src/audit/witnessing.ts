import { parseCheckpoint } from '../transparency/checkpoint.js';
import { addSignatures, NoteError, parseNote, parseSignatureLines, type NoteSignature, type NoteVerifier } from '../transparency/note.js';
import { proveConsistency } from './logTree.js';
import type { AccessLogStore, StoredTreeHead } from './store/AccessLogStore.js';
import { postToWitness, WitnessUnreachableError } from './witnessClient.js';

/**
 * Sends each chain's signed tree heads to the configured witnesses (C2SP tlog-witness
 * add-checkpoint) and stores the cosignatures they return in the tree head's note. Off the
 * commit path: a witness that is slow or down delays cosignatures, never an entry. Per chain one
 * submission at a time, and only the newest head waits: a witness cosigns the latest size it has
 * seen, so an older head would be refused anyway.
 */
export interface WitnessTarget {
  readonly url: string;
  /** The witness's key name: what its cosignature lines and the quorum count it by. */
  readonly name: string;
  /**
   * Its keys, all named `name`: the current one and those it rotated away from. A cosignature by
   * any of them is the witness's: after a rotation, both verify until the old key is dropped.
   */
  readonly verifiers: readonly NoteVerifier[];
}

/**
 * How one witness's part of a round ended: it cosigned; it answered but refused (409 inconsistent,
 * 403 not signed by a log it knows, 404 unknown origin, 422 bad proof, ...); it could not be
 * reached (connection, TLS, timeout); it answered 200 without a cosignature by its configured key;
 * or our side failed (the consistency proof could not be read).
 */
export type WitnessOutcome = 'cosigned' | 'refused' | 'unreachable' | 'bad-cosignature' | 'error';

export type WitnessingEvent =
  /**
   * A round ended and its cosignatures are stored with the tree head: `witnesses` are those that
   * cosigned (possibly none), `quorumMet` whether they make the quorum a verifier demands.
   */
  | { readonly type: 'cosigned'; readonly chainId: string; readonly size: number; readonly witnesses: readonly string[]; readonly quorumMet: boolean }
  | {
      readonly type: 'witness-refused';
      readonly chainId: string;
      readonly size: number;
      readonly witness: string;
      readonly outcome: Exclude<WitnessOutcome, 'cosigned'>;
      /** The witness's HTTP status; null when it never answered. */
      readonly status: number | null;
      readonly reason: string;
    }
  /** The store refused the cosigned note: `witnesses`' cosignatures of this head are lost (the next head gathers fresh ones). */
  | { readonly type: 'cosign-failed'; readonly chainId: string; readonly size: number; readonly witnesses: readonly string[]; readonly error: unknown };

export interface WitnessingOptions {
  readonly store: AccessLogStore;
  readonly witnesses: readonly WitnessTarget[];
  /** Cosignatures a checkpoint needs before a verifier accepts it (for the events' quorumMet). */
  readonly quorum?: number;
  readonly timeoutMs?: number;
  /** CA certificates the witnesses' HTTPS server certificates must chain to. */
  readonly ca?: string | Buffer;
  /** For logs and metrics; must not throw. */
  readonly onEvent?: (event: WitnessingEvent) => void;
}

class WitnessRefusal extends Error {
  constructor(
    readonly outcome: Exclude<WitnessOutcome, 'cosigned'>,
    readonly status: number | null,
    message: string,
  ) {
    super(message);
  }
}

export class Witnessing {
  /** The size each witness last cosigned, per witness and origin, as it told us. */
  private readonly known = new Map<string, number>();
  private readonly pending = new Map<string, StoredTreeHead>();
  private readonly running = new Map<string, Promise<void>>();
  private closed = false;

  constructor(private readonly options: WitnessingOptions) {}

  /** Queues a committed tree head for cosigning; returns at once. */
  submit(head: StoredTreeHead): void {
    if (this.closed || this.options.witnesses.length === 0) return;
    this.pending.set(head.chainId, head);
    if (!this.running.has(head.chainId)) this.running.set(head.chainId, this.drain(head.chainId));
  }

  /** Resolves when every queued head has been sent (or refused). */
  async settled(): Promise<void> {
    while (this.running.size > 0) await Promise.all([...this.running.values()]);
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.settled();
  }

  private async drain(chainId: string): Promise<void> {
    try {
      for (let head = this.pending.get(chainId); head; head = this.pending.get(chainId)) {
        this.pending.delete(chainId);
        try {
          await this.cosign(head);
        } catch (error) {
          // Not a witness's answer nor the store's refusal (cosign reports those): a head we could not read. The next head is tried afresh.
          this.emit({ type: 'cosign-failed', chainId, size: head.size, witnesses: [], error });
        }
      }
    } finally {
      this.running.delete(chainId);
    }
  }

  private async cosign(head: StoredTreeHead): Promise<void> {
    const text = parseNote(head.note).text;
    const { origin } = parseCheckpoint(text);
    const results = await Promise.allSettled(this.options.witnesses.map((witness) => this.ask(witness, origin, head, text)));
    const signatures: NoteSignature[] = [];
    results.forEach((result, i) => {
      const witness = this.options.witnesses[i]!;
      if (result.status === 'fulfilled') signatures.push(result.value);
      else {
        const error = result.reason as unknown;
        this.emit({
          type: 'witness-refused',
          chainId: head.chainId,
          size: head.size,
          witness: witness.name,
          outcome: error instanceof WitnessRefusal ? error.outcome : error instanceof WitnessUnreachableError ? 'unreachable' : 'error',
          status: error instanceof WitnessRefusal ? error.status : null,
          reason: error instanceof WitnessRefusal || error instanceof WitnessUnreachableError ? error.message : 'the consistency proof could not be read from the store',
        });
      }
    });
    const witnesses = signatures.map((s) => s.name);
    if (signatures.length > 0) {
      try {
        await this.options.store.updateTreeHeadNote(head.chainId, head.size, addSignatures(head.note, signatures));
      } catch (error) {
        // The store refused the cosigned note (closed, or down): the next head gathers fresh cosignatures.
        this.emit({ type: 'cosign-failed', chainId: head.chainId, size: head.size, witnesses, error });
        return;
      }
    }
    this.emit({ type: 'cosigned', chainId: head.chainId, size: head.size, witnesses, quorumMet: witnesses.length >= (this.options.quorum ?? 0) });
  }

  /** One add-checkpoint exchange, with one retry after a 409 tells the witness's size. */
  private async ask(witness: WitnessTarget, origin: string, head: StoredTreeHead, text: string): Promise<NoteSignature> {
    const key = `${witness.name} ${origin}`;
    for (let attempt = 0; attempt < 2; attempt++) {
      const oldSize = Math.min(this.known.get(key) ?? 0, head.size);
      const proof = oldSize === 0 ? [] : await proveConsistency(this.options.store, head.chainId, oldSize, head.size);
      const body = `old ${oldSize}\n${proof.map((hash) => `${hash.toString('base64')}\n`).join('')}\n${head.note}`;
      const response = await postToWitness(`${witness.url}/add-checkpoint`, body, { ca: this.options.ca, timeoutMs: this.options.timeoutMs ?? 5000 });
      const answer = response.body;
      if (response.status === 409 && response.contentType.startsWith('text/x.tlog.size')) {
        const size = Number(answer.trim());
        if (!Number.isSafeInteger(size) || size > head.size) throw new WitnessRefusal('refused', 409, `the witness has cosigned size ${printable(answer.trim())}, beyond this head`);
        this.known.set(key, size);
        continue;
      }
      if (response.status !== 200) throw new WitnessRefusal('refused', response.status, printable(answer.trim()));
      const line = this.verified(witness, text, answer);
      this.known.set(key, head.size);
      return line;
    }
    throw new WitnessRefusal('refused', 409, 'the witness size kept changing');
  }

  /** Only a cosignature that verifies under one of the witness's configured keys is kept. */
  private verified(witness: WitnessTarget, text: string, answer: string): NoteSignature {
    let lines: NoteSignature[];
    try {
      lines = parseSignatureLines(answer);
    } catch (error) {
      if (error instanceof NoteError) throw new WitnessRefusal('bad-cosignature', 200, 'the answer is not signature lines');
      throw error;
    }
    const mine = lines.find((line) => witness.verifiers.some((key) => line.name === key.name && line.keyId.equals(key.keyId) && key.verify(text, line.signature)));
    if (!mine) throw new WitnessRefusal('bad-cosignature', 200, 'no valid cosignature from a configured key of this witness');
    return mine;
  }

  private emit(event: WitnessingEvent): void {
    try {
      this.options.onEvent?.(event);
    } catch {
      // a listener's bug must not stop cosigning
    }
  }
}

/** The witness's own words for a refusal, one short printable line: it goes to the process log. */
function printable(text: string): string {
  return text.replace(/[^\x20-\x7e]+/g, ' ').slice(0, 200);
}
