import { parseCheckpoint } from '../transparency/checkpoint.js';
import { addSignatures, NoteError, parseNote, parseSignatureLines, type NoteSignature, type NoteVerifier } from '../transparency/note.js';
import { proveConsistency } from './logTree.js';
import type { AccessLogStore, StoredTreeHead } from './store/AccessLogStore.js';

/**
 * Sends each chain's signed tree heads to the configured witnesses (C2SP tlog-witness
 * add-checkpoint) and stores the cosignatures they return in the tree head's note. Off the
 * commit path: a witness that is slow or down delays cosignatures, never an entry. Per chain one
 * submission at a time, and only the newest head waits: a witness cosigns the latest size it has
 * seen, so an older head would be refused anyway.
 */
export interface WitnessTarget {
  readonly url: string;
  readonly verifier: NoteVerifier;
}

export type WitnessingEvent =
  | { readonly type: 'cosigned'; readonly chainId: string; readonly size: number; readonly witnesses: readonly string[] }
  | { readonly type: 'witness-refused'; readonly chainId: string; readonly size: number; readonly witness: string; readonly status: number | null; readonly reason: string }
  | { readonly type: 'cosign-failed'; readonly chainId: string; readonly size: number; readonly error: unknown };

export interface WitnessingOptions {
  readonly store: AccessLogStore;
  readonly witnesses: readonly WitnessTarget[];
  readonly timeoutMs?: number;
  /** For logs and metrics; must not throw. */
  readonly onEvent?: (event: WitnessingEvent) => void;
}

class WitnessRefusal extends Error {
  constructor(
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
          // The store refused the cosigned note (closed, or down): the next head gathers fresh cosignatures.
          this.emit({ type: 'cosign-failed', chainId, size: head.size, error });
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
          witness: witness.verifier.name,
          status: error instanceof WitnessRefusal ? error.status : null,
          reason: error instanceof Error ? error.message : String(error),
        });
      }
    });
    if (signatures.length === 0) return;
    await this.options.store.updateTreeHeadNote(head.chainId, head.size, addSignatures(head.note, signatures));
    this.emit({ type: 'cosigned', chainId: head.chainId, size: head.size, witnesses: signatures.map((s) => s.name) });
  }

  /** One add-checkpoint exchange, with one retry after a 409 tells the witness's size. */
  private async ask(witness: WitnessTarget, origin: string, head: StoredTreeHead, text: string): Promise<NoteSignature> {
    const key = `${witness.verifier.name} ${origin}`;
    for (let attempt = 0; attempt < 2; attempt++) {
      const oldSize = Math.min(this.known.get(key) ?? 0, head.size);
      const proof = oldSize === 0 ? [] : await proveConsistency(this.options.store, head.chainId, oldSize, head.size);
      const body = `old ${oldSize}\n${proof.map((hash) => `${hash.toString('base64')}\n`).join('')}\n${head.note}`;
      const response = await fetch(`${witness.url}/add-checkpoint`, { method: 'POST', body, signal: AbortSignal.timeout(this.options.timeoutMs ?? 5000) });
      const answer = await response.text();
      if (response.status === 409 && response.headers.get('content-type')?.startsWith('text/x.tlog.size')) {
        const size = Number(answer.trim());
        if (!Number.isSafeInteger(size) || size > head.size) throw new WitnessRefusal(409, `the witness has cosigned size ${answer.trim()}, beyond this head`);
        this.known.set(key, size);
        continue;
      }
      if (response.status !== 200) throw new WitnessRefusal(response.status, answer.trim().slice(0, 200));
      const line = this.verified(witness, text, answer);
      this.known.set(key, head.size);
      return line;
    }
    throw new WitnessRefusal(409, 'the witness size kept changing');
  }

  /** Only a cosignature that verifies under the configured key is kept. */
  private verified(witness: WitnessTarget, text: string, answer: string): NoteSignature {
    let lines: NoteSignature[];
    try {
      lines = parseSignatureLines(answer);
    } catch (error) {
      if (error instanceof NoteError) throw new WitnessRefusal(200, 'the answer is not signature lines');
      throw error;
    }
    const mine = lines.find((line) => line.name === witness.verifier.name && line.keyId.equals(witness.verifier.keyId));
    if (!mine || !witness.verifier.verify(text, mine.signature)) throw new WitnessRefusal(200, 'no valid cosignature from the configured key');
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
