import { GatewayError } from '../errors/index.js';
import { validateAccessLogEntries, type AccessLogEntry } from './entry.js';
import { chainRecords, type ChainHead } from './hashChain.js';
import { draftEntries, type RecordDraft } from './record.js';
import { signCheckpoint, type CheckpointSigner } from './checkpoint.js';
import { protectSubject, type SubjectKeys } from './subjectProtection.js';
import { ChainConflictError, type AccessLogStore, type StoredTreeHead } from './store/AccessLogStore.js';
import { buildTreeFromRecords, growTree, loadFrontier, signTreeHead, treeOrigin, type TreeFrontier } from './logTree.js';
import type { NoteSigner } from '../transparency/note.js';

/** Where the gateway's entries go; AccessLog is the real one. */
export interface AccessLogSink {
  /** Resolves once the entries are committed durably; rejects with ACCESS_LOG_UNAVAILABLE otherwise. */
  record(entries: readonly AccessLogEntry[]): Promise<unknown>;
}

export interface AccessLogOptions {
  readonly store: AccessLogStore;
  /** This replica's chain. One AccessLog per chainId per process: the writer owns the head. */
  readonly chainId: string;
  readonly subjectKeys: SubjectKeys;
  readonly signer: CheckpointSigner;
  /** Sign a checkpoint once this many entries have been appended since the last one. Default 1000. */
  readonly checkpointEvery?: number;
  /** ...or this long has passed with entries not yet checkpointed. Default 60 s. */
  readonly checkpointIntervalMs?: number;
  /** record() rejects if its entries are not committed within this bound. Default 2 s. */
  readonly commitTimeoutMs?: number;
  /** Largest batch per transaction; the rest waits for the next commit. Default 5000 entries. */
  readonly maxBatchEntries?: number;
  /**
   * Commits in flight at once (the pipeline's depth). With 2, the next batch is serialised,
   * hashed, put in the tree and handed to the store while the last one commits. Default 2.
   */
  readonly commitsInFlight?: number;
  /**
   * A queue holding more entries than this while more than one commit slot is free is shared out
   * across the free slots: the first share commits while the rest is built, instead of everything
   * waiting for one build and then one commit. It buys overlap with commits (on SQLite, fsyncs),
   * so it pays only where the store has a core of its own; on the loaded 2-core bench machine it
   * cost CPU per entry and gained no throughput (docs/performance.md). Both stores take two commits
   * in flight (PostgreSQL's append moves the head only once the one before has settled). Default:
   * none, one batch of whatever waits (up to maxBatchEntries).
   */
  readonly splitBatchesAbove?: number;
  /** While unhealthy, probe the store this often. Default 1 s. */
  readonly probeIntervalMs?: number;
  /**
   * The log's Ed25519 note key: with it the writer signs a C2SP checkpoint of the chain's Merkle
   * tree (origin `<key name>/<chainId>`) in the commit that follows treeHeadIntervalMs after the
   * last one, and on its own when entries wait that long. The tree itself is kept either way.
   */
  readonly treeSigner?: NoteSigner;
  /** Default 1 s: a citizen's newest entries are provable within about this long. */
  readonly treeHeadIntervalMs?: number;
  /** close() also closes the store. */
  readonly ownsStore?: boolean;
  readonly now?: () => Date;
  /** For logs and metrics; must not throw. */
  readonly onEvent?: (event: AccessLogEvent) => void;
}

export type AccessLogEvent =
  | { readonly type: 'commit'; readonly chainId: string; readonly entries: number; readonly requests: number; readonly headSeq: number; readonly durationMs: number; readonly checkpoint: boolean }
  | { readonly type: 'checkpoint'; readonly chainId: string; readonly seq: number }
  | { readonly type: 'tree-head'; readonly chainId: string; readonly head: StoredTreeHead }
  | { readonly type: 'unavailable'; readonly chainId: string; readonly reason: 'store-error' | 'timeout'; readonly error?: unknown }
  | { readonly type: 'recovered'; readonly chainId: string }
  | { readonly type: 'conflict'; readonly chainId: string; readonly error: ChainConflictError };

/** Where one record() call's entries landed. */
export interface AccessLogReceipt {
  readonly chainId: string;
  /** 0 when no entries were given. */
  readonly firstSeq: number;
  readonly lastSeq: number;
}

interface PendingRecord {
  /** The call's records, serialised when record() was called: the pipeline's first stage. */
  readonly drafts: readonly RecordDraft[];
  readonly entryCount: number;
  /** Commits of this call refused by a chain conflict so far. */
  conflicts: number;
  readonly resolve: (receipt: AccessLogReceipt) => void;
  readonly reject: (error: unknown) => void;
  timer: NodeJS.Timeout | undefined;
  settled: boolean;
}

const writersByStore = new WeakMap<AccessLogStore, Set<string>>();

function unavailable(reason: string, cause?: unknown): GatewayError {
  return new GatewayError('ACCESS_LOG_UNAVAILABLE', 'The access log is unavailable; no personal data can be released.', { reason }, { cause });
}

class CommitTimeout extends Error {}

/**
 * The access-log writer. record() resolves only once its entries are durably committed: the
 * gateway releases a response after that and not before, because data released without an
 * entry would break the audit guarantee.
 *
 * Group commit: calls arriving while a commit is in flight wait and go together in the next
 * transaction; when idle, a call is committed at once (no sleep to gather a batch). Hashing and
 * chaining happen here, not in the store, so the store sees finished records and the head needs
 * no database round trip per batch.
 *
 * Pipelined: a call's records are serialised (subjects encrypted) in record() itself; a batch is
 * chained, put in the tree and handed to the store while the previous batch is still committing
 * (commitsInFlight), so the writer thread or PostgreSQL never waits for this thread to build the
 * next one. The store's head check keeps this safe: a batch built on one that fails is refused
 * and goes round again. With splitBatchesAbove a deep queue with free commit slots is shared out
 * across them: callers wait for the commit their record is in, so one batch of everyone leaves
 * the store idle while this thread builds it and this thread idle while it commits; in shares,
 * the callers of one commit serialise their next records while the next commits.
 */
export class AccessLog {
  readonly chainId: string;
  private readonly store: AccessLogStore;
  private readonly keys: SubjectKeys;
  private readonly signer: CheckpointSigner;
  private readonly checkpointEvery: number;
  private readonly commitTimeoutMs: number;
  private readonly maxBatchEntries: number;
  private readonly commitsInFlight: number;
  private readonly splitBatchesAbove: number;
  private readonly probeIntervalMs: number;
  private readonly ownsStore: boolean;
  private readonly treeSigner: NoteSigner | undefined;
  private readonly treeHeadIntervalMs: number;
  private readonly now: () => Date;
  private readonly emit: (event: AccessLogEvent) => void;

  private queue: PendingRecord[] = [];
  /** Commits handed to the store and not yet settled, oldest first. */
  private inFlight: Array<Promise<void>> = [];
  private running = false;
  private idleWaiters: Array<() => void> = [];
  /**
   * The head as this writer believes it, including commits still in flight (the next batch is
   * built on them); reloaded from the store after any failure, once nothing is in flight.
   */
  private head: ChainHead | null = null;
  /** The Merkle tree's right edge, always at head.seq leaves; loaded and dropped with the head. */
  private tree: TreeFrontier | null = null;
  private signedTreeSize = 0;
  private lastTreeHeadAt = 0;
  private treeHeadDue = false;
  private readonly treeHeadTimer: NodeJS.Timeout | undefined;
  private sinceCheckpoint = 0;
  private checkpointDue = false;
  private healthy = true;
  private closing = false;
  private closed = false;
  private readonly checkpointTimer: NodeJS.Timeout;
  private probeTimer: NodeJS.Timeout | undefined;
  private probing = false;
  private closePromise: Promise<void> | undefined;

  constructor(options: AccessLogOptions) {
    const writers = writersByStore.get(options.store) ?? new Set<string>();
    if (writers.has(options.chainId)) {
      throw new TypeError(`An AccessLog for chain ${options.chainId} is already open on this store; a chain has exactly one writer per process.`);
    }
    for (const [name, value] of [
      ['checkpointEvery', options.checkpointEvery],
      ['checkpointIntervalMs', options.checkpointIntervalMs],
      ['commitTimeoutMs', options.commitTimeoutMs],
      ['maxBatchEntries', options.maxBatchEntries],
      ['commitsInFlight', options.commitsInFlight],
      ['splitBatchesAbove', options.splitBatchesAbove],
      ['probeIntervalMs', options.probeIntervalMs],
      ['treeHeadIntervalMs', options.treeHeadIntervalMs],
    ] as const) {
      if (value !== undefined && (!Number.isInteger(value) || value <= 0)) throw new TypeError(`AccessLog option ${name} must be a positive integer.`);
    }
    writers.add(options.chainId);
    writersByStore.set(options.store, writers);
    this.chainId = options.chainId;
    this.store = options.store;
    this.keys = options.subjectKeys;
    this.signer = options.signer;
    this.checkpointEvery = options.checkpointEvery ?? 1000;
    this.commitTimeoutMs = options.commitTimeoutMs ?? 2000;
    this.maxBatchEntries = options.maxBatchEntries ?? 5000;
    this.commitsInFlight = options.commitsInFlight ?? 2;
    this.splitBatchesAbove = options.splitBatchesAbove ?? Number.POSITIVE_INFINITY;
    this.probeIntervalMs = options.probeIntervalMs ?? 1000;
    this.ownsStore = options.ownsStore ?? false;
    this.treeSigner = options.treeSigner;
    this.treeHeadIntervalMs = options.treeHeadIntervalMs ?? 1000;
    this.now = options.now ?? (() => new Date());
    const onEvent = options.onEvent;
    this.emit = onEvent
      ? (event) => {
          try {
            onEvent(event);
          } catch {
            // a listener's bug must not fail the log
          }
        }
      : () => undefined;
    this.checkpointTimer = setInterval(() => {
      this.checkpointDue = true;
      this.kick();
    }, options.checkpointIntervalMs ?? 60_000);
    this.checkpointTimer.unref();
    if (this.treeSigner) {
      this.treeHeadTimer = setInterval(() => {
        if (this.tree === null || this.tree.size > this.signedTreeSize) {
          this.treeHeadDue = true;
          this.kick();
        }
      }, this.treeHeadIntervalMs);
      this.treeHeadTimer.unref();
    }
  }

  /**
   * Records entries and resolves once they are committed durably. Rejects with
   * GatewayError('ACCESS_LOG_UNAVAILABLE') if the store fails or the commit exceeds the
   * timeout; the entries may then or may not be in the log, and the response must be withheld.
   * A malformed entry rejects with InvalidAccessLogEntryError and none of the call's entries is recorded.
   */
  record(entries: readonly AccessLogEntry[]): Promise<AccessLogReceipt> {
    if (this.closing) return Promise.reject(unavailable('closed'));
    let drafts: RecordDraft[];
    try {
      validateAccessLogEntries(entries);
      // Each person is encrypted once per call (draftEntries): the ciphertexts of one call are then
      // equal for one person, which its HMAC reveals anyway. Never across calls.
      drafts = draftEntries(entries, (subject) => protectSubject(this.keys, subject));
    } catch (error) {
      return Promise.reject(error);
    }
    if (entries.length === 0) return Promise.resolve({ chainId: this.chainId, firstSeq: 0, lastSeq: 0 });
    return new Promise<AccessLogReceipt>((resolve, reject) => {
      const pending: PendingRecord = { drafts, entryCount: entries.length, conflicts: 0, resolve, reject, timer: undefined, settled: false };
      pending.timer = setTimeout(() => this.expire(pending), this.commitTimeoutMs);
      this.queue.push(pending);
      this.kick();
    });
  }

  /** False from a failed or timed-out commit until a later commit or probe succeeds. */
  isHealthy(): boolean {
    return this.healthy;
  }

  /** Resolves when every record() made so far has settled. */
  async flush(): Promise<void> {
    while (this.running || this.queue.length > 0) {
      await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
    }
  }

  /**
   * Graceful shutdown: refuses new records, waits for pending ones, signs a last checkpoint so
   * the tail is anchored, stops timers and (with ownsStore) closes the store.
   */
  close(): Promise<void> {
    this.closePromise ??= this.shutdown();
    return this.closePromise;
  }

  private async shutdown(): Promise<void> {
    this.closing = true;
    await this.flush();
    clearInterval(this.checkpointTimer);
    clearInterval(this.treeHeadTimer);
    if (this.probeTimer) clearInterval(this.probeTimer);
    if (this.healthy && this.sinceCheckpoint > 0) {
      this.checkpointDue = true;
      this.kick();
      await this.flush();
    }
    if (this.healthy && this.treeSigner && this.tree && this.tree.size > this.signedTreeSize) {
      this.treeHeadDue = true;
      this.kick();
      await this.flush();
    }
    this.closed = true;
    writersByStore.get(this.store)?.delete(this.chainId);
    if (this.ownsStore) await this.store.close();
  }

  private kick(): void {
    if (this.running || this.closed) return;
    this.running = true;
    // A microtask, not a timer: calls made in the same tick share the first commit, and an idle log adds no latency.
    queueMicrotask(() => void this.drain());
  }

  private async drain(): Promise<void> {
    try {
      for (;;) {
        // After a failure the head is reloaded from the store, which must first see every commit in flight settle.
        if (this.head === null && this.inFlight.length > 0) {
          await this.settleInFlight();
          continue;
        }
        const batch = this.takeBatch();
        if (batch.length > 0) {
          const started = await this.startCommit(batch);
          if (started) this.inFlight.push(started.settled);
          if (this.inFlight.length >= this.commitsInFlight) await this.inFlight.shift();
          continue;
        }
        if (this.inFlight.length > 0) {
          await this.inFlight.shift();
          continue;
        }
        // While the log is down a checkpoint stays due and runs after recovery. Run now, it would
        // wait on the stalled store for up to the commit bound with the writer held: requests
        // arriving meanwhile would queue behind it and be refused by the clock, their commits
        // never reaching the store whose own refusal (or recovery) should decide them.
        if (this.checkpointDue && this.healthy) {
          this.checkpointDue = false;
          if (this.sinceCheckpoint > 0 || this.head === null) await this.timedCheckpoint();
          continue;
        }
        if (this.treeHeadDue && this.healthy) {
          this.treeHeadDue = false;
          await this.timedTreeHead();
          continue;
        }
        break;
      }
    } finally {
      // No await between the empty queue check above and this: a record() cannot slip in unseen.
      this.running = false;
      for (const wake of this.idleWaiters.splice(0)) wake();
    }
  }

  private async settleInFlight(): Promise<void> {
    while (this.inFlight.length > 0) await this.inFlight.shift();
  }

  private takeBatch(): PendingRecord[] {
    let limit = this.maxBatchEntries;
    const free = this.commitsInFlight - this.inFlight.length;
    if (free > 1) {
      let queued = 0;
      for (const pending of this.queue) if (!pending.settled) queued += pending.entryCount;
      if (queued > this.splitBatchesAbove) limit = Math.min(limit, Math.max(this.splitBatchesAbove, Math.ceil(queued / free)));
    }
    const batch: PendingRecord[] = [];
    let size = 0;
    while (this.queue.length > 0) {
      const next = this.queue[0]!;
      if (batch.length > 0 && size + next.entryCount > limit) break;
      this.queue.shift();
      if (next.settled) continue;
      batch.push(next);
      size += next.entryCount;
    }
    return batch;
  }

  private expire(pending: PendingRecord): void {
    if (pending.settled) return;
    const queued = this.queue.indexOf(pending);
    // Not yet taken: drop it, so a request refused for lateness is not logged as if it went out later.
    if (queued >= 0) this.queue.splice(queued, 1);
    this.settle(pending, unavailable('timeout'));
    this.markUnhealthy('timeout');
  }

  private settle(pending: PendingRecord, outcome: AccessLogReceipt | GatewayError): void {
    if (pending.settled) return;
    pending.settled = true;
    clearTimeout(pending.timer);
    if (outcome instanceof GatewayError) pending.reject(outcome);
    else pending.resolve(outcome);
  }

  /** Races a store call against the commit bound; a late result is ignored, and the head reloaded, never trusted. */
  private async bounded<T>(operation: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    operation.catch(() => undefined);
    try {
      return await Promise.race([
        operation,
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new CommitTimeout()), this.commitTimeoutMs);
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  private async loadHead(): Promise<ChainHead> {
    const [head, checkpoint, treeHeads] = await this.bounded(Promise.all([this.store.lastHead(this.chainId), this.store.lastCheckpoint(this.chainId), this.store.listTreeHeads(this.chainId, 1)]));
    // A chain whose tree nodes are missing gets its tree rebuilt from its records (unbounded: a repair, not a commit).
    this.tree = (await this.bounded(loadFrontier(this.store, this.chainId, head.records))) ?? (await buildTreeFromRecords(this.store, this.chainId, head.records));
    this.head = head;
    this.signedTreeSize = treeHeads[0]?.size ?? 0;
    this.sinceCheckpoint = head.seq - (checkpoint?.seq ?? 0);
    return head;
  }

  /** A tree head is due in a commit once the interval has passed since the last one. */
  private treeHeadFor(frontier: TreeFrontier): StoredTreeHead | undefined {
    if (!this.treeSigner) return undefined;
    const now = this.now();
    if (now.getTime() - this.lastTreeHeadAt < this.treeHeadIntervalMs) return undefined;
    return signTreeHead(this.chainId, treeOrigin(this.treeSigner.name, this.chainId), frontier, now.toISOString(), this.treeSigner);
  }

  private treeHeadCommitted(head: StoredTreeHead): void {
    this.signedTreeSize = head.size;
    this.lastTreeHeadAt = Date.parse(head.time);
    this.emit({ type: 'tree-head', chainId: this.chainId, head });
  }

  /**
   * The pipeline's second stage: places the batch's records after the head (chain hashes, tree
   * leaves and nodes, a signed tree head or checkpoint when due), moves the writer's head on as if
   * the commit had succeeded, and hands the batch to the store. Returns the commit's settlement
   * (wrapped: an async function returning a bare promise would wait for it, and the pipeline with
   * it), or null when it failed before reaching the store. A later batch built on this one cannot land
   * if this one does not: the store refuses a batch whose head it has not got.
   */
  private async startCommit(batch: PendingRecord[]): Promise<{ readonly settled: Promise<void> } | null> {
    const started = Date.now();
    const drafts = batch.length === 1 ? batch[0]!.drafts : batch.flatMap((pending) => pending.drafts);
    let entries = 0;
    for (const pending of batch) entries += pending.entryCount;
    let built: { head: ChainHead; chained: ReturnType<typeof chainRecords>; treeHead: StoredTreeHead | undefined; checkpoint: boolean; append: Promise<void> };
    try {
      const head = this.head ?? (await this.loadHead());
      const chained = chainRecords(head, drafts);
      const grown = growTree(this.tree!, chained.records);
      const treeHead = this.treeHeadFor(grown.frontier);
      const sinceCheckpoint = this.sinceCheckpoint + entries;
      const checkpoint = sinceCheckpoint >= this.checkpointEvery ? await signCheckpoint(chained.head, sinceCheckpoint, this.now().toISOString(), this.signer) : undefined;
      const append = this.bounded(this.store.append(chained.records, checkpoint, { nodes: grown.nodes, ...(treeHead ? { head: treeHead } : {}) }));
      this.head = chained.head;
      this.tree = grown.frontier;
      this.sinceCheckpoint = checkpoint ? 0 : sinceCheckpoint;
      if (treeHead) this.lastTreeHeadAt = Date.parse(treeHead.time);
      built = { head, chained, treeHead, checkpoint: checkpoint !== undefined, append };
    } catch (error) {
      this.commitFailed(batch, error);
      return null;
    }
    const settled = built.append.then(
      () => {
        if (built.treeHead) this.treeHeadCommitted(built.treeHead);
        this.markHealthy();
        let seq = built.head.seq;
        for (const pending of batch) {
          const firstSeq = seq + 1;
          seq += pending.entryCount;
          this.settle(pending, { chainId: this.chainId, firstSeq, lastSeq: seq });
        }
        this.emit({
          type: 'commit',
          chainId: this.chainId,
          entries,
          requests: batch.length,
          headSeq: built.chained.head.seq,
          durationMs: Date.now() - started,
          checkpoint: built.checkpoint,
        });
      },
      (error: unknown) => this.commitFailed(batch, error),
    );
    return { settled };
  }

  /**
   * Whatever happened, the stored head is the truth now: a timed-out commit may still land, and a
   * batch built on this one will be refused. A conflict (another writer on the chain, or the
   * failure of the batch this one was built on) sends the batch back to the front of the queue,
   * up to three times; anything else refuses it.
   */
  private commitFailed(batch: PendingRecord[], error: unknown): void {
    this.head = null;
    this.tree = null;
    if (error instanceof ChainConflictError) {
      this.emit({ type: 'conflict', chainId: this.chainId, error });
      const retry = batch.filter((pending) => !pending.settled && ++pending.conflicts <= 3);
      if (retry.length === batch.filter((pending) => !pending.settled).length && retry.length > 0) {
        this.queue.unshift(...retry);
        return;
      }
    }
    const reason = error instanceof CommitTimeout ? 'timeout' : 'store-error';
    for (const pending of batch) this.settle(pending, unavailable(reason, error));
    this.markUnhealthy(reason, error instanceof CommitTimeout ? undefined : error);
  }

  private async timedCheckpoint(): Promise<void> {
    try {
      const head = this.head ?? (await this.loadHead());
      if (this.sinceCheckpoint === 0 || head.seq === 0) return;
      const checkpoint = await signCheckpoint(head, this.sinceCheckpoint, this.now().toISOString(), this.signer);
      await this.bounded(this.store.appendCheckpoint(checkpoint));
      this.sinceCheckpoint = 0;
      this.markHealthy();
      this.emit({ type: 'checkpoint', chainId: this.chainId, seq: head.seq });
    } catch (error) {
      this.signingFailed(error);
    }
  }

  private async timedTreeHead(): Promise<void> {
    try {
      if (this.head === null) await this.loadHead();
      const tree = this.tree!;
      if (!this.treeSigner || tree.size === 0 || tree.size <= this.signedTreeSize) return;
      const head = signTreeHead(this.chainId, treeOrigin(this.treeSigner.name, this.chainId), tree, this.now().toISOString(), this.treeSigner);
      await this.bounded(this.store.appendTreeHead(head));
      this.treeHeadCommitted(head);
    } catch (error) {
      this.signingFailed(error);
    }
  }

  /** A timed checkpoint or tree head failed: the stored head is the truth again, and a store error marks the log down. */
  private signingFailed(error: unknown): void {
    this.head = null;
    this.tree = null;
    if (error instanceof ChainConflictError) this.emit({ type: 'conflict', chainId: this.chainId, error });
    else this.markUnhealthy(error instanceof CommitTimeout ? 'timeout' : 'store-error', error);
  }

  private markHealthy(): void {
    if (this.healthy) return;
    this.healthy = true;
    if (this.probeTimer) clearInterval(this.probeTimer);
    this.probeTimer = undefined;
    this.emit({ type: 'recovered', chainId: this.chainId });
    // A checkpoint that fell due during the outage; a no-op when a commit's drain is running, which picks it up.
    if (this.checkpointDue) this.kick();
  }

  private markUnhealthy(reason: 'store-error' | 'timeout', error?: unknown): void {
    const wasHealthy = this.healthy;
    this.healthy = false;
    if (wasHealthy) this.emit({ type: 'unavailable', chainId: this.chainId, reason, ...(error === undefined ? {} : { error }) });
    if (this.probeTimer || this.closed) return;
    this.probeTimer = setInterval(() => void this.probe(), this.probeIntervalMs);
    this.probeTimer.unref();
  }

  /**
   * While unhealthy and idle, checks whether the store takes writes again. The head stays
   * unloaded: the next commit reads it inside its own sequence, so a probe can never race a commit.
   */
  private async probe(): Promise<void> {
    if (this.probing || this.running || this.healthy) return;
    this.probing = true;
    try {
      await this.bounded(this.store.healthCheck());
      this.markHealthy();
    } catch {
      // still down; the next tick tries again
    } finally {
      this.probing = false;
    }
  }
}
