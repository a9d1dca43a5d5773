import type { JWK } from 'jose';
import type { AccessLogStore } from '../audit/index.js';
import { verifyAccessLog, verifyTree, type LogVerificationEvent, type TreeVerification, type VerificationReport } from '../audit/verify.js';
import type { NoteVerifier } from '../transparency/note.js';

/**
 * The full verification behind the console's badge (the audit API's `verification`), kept
 * instead of redone per request. verifyAccessLog and verifyTree each read every record of every
 * chain (O(n)); the console asks on every page load, so doing it per request would let any
 * officer, or a reloading browser, keep the database busy for minutes per load on a log of
 * 10^7–10^9 entries. Here it stays complete (never a sample: "verified up to checkpoint N" means
 * every record up to N was checked) but runs at most once at a time per process, and its result is
 * kept with the time it finished and the tree size it covered.
 */

export interface KeptTree extends TreeVerification {
  /** When this chain's tree verification finished (ISO 8601). */
  readonly verifiedAt: string;
}

export interface KeptRun {
  /** When the run finished: the age of the kept result counts from here. */
  readonly finishedAt: Date;
  /** The hash chains and JWS checkpoints of every chain. */
  readonly chains: VerificationReport;
  /** Each chain's Merkle tree against its signed heads; null when the log has no note key. */
  readonly trees: ReadonlyMap<string, KeptTree> | null;
}

export interface KeptVerification {
  readonly run: KeptRun;
  /** The kept run is older than the maximum age and a new one is running; a request after it finishes gets its result. */
  readonly refreshing: boolean;
}

export type { LogVerificationEvent };

export interface KeptLogVerificationOptions {
  readonly store: AccessLogStore;
  /** The gateway's public checkpoint keys (JWS checkpoints and purge records). */
  readonly publicJwks: readonly JWK[];
  /** The log's note key: every tree head must be signed by it. Null: no tree verification. */
  readonly log: NoteVerifier | null;
  /** AUDIT_VERIFY_MAX_AGE_MS: a kept run younger than this is served as it is. */
  readonly maxAgeMs: number;
  readonly now: () => Date;
  /** Awaited before the run reads anything, so an observer sees every start before the run can end. */
  readonly onEvent?: (event: LogVerificationEvent) => void | Promise<void>;
}

export class KeptLogVerification {
  #kept: KeptRun | null = null;
  #running: Promise<KeptRun> | null = null;
  readonly #options: KeptLogVerificationOptions;

  constructor(options: KeptLogVerificationOptions) {
    this.#options = options;
  }

  /**
   * The kept run when it is young enough and covers every chain the log has now; otherwise a new
   * run is started, or the one already running joined (single flight: concurrent callers share
   * it). While a kept run exists the caller does not wait for the new one: it gets the kept result
   * marked `refreshing`, because a full run over a large log takes minutes and a page load must not
   * hang on it, and the kept result says exactly what it covers (its time and tree size), so it is
   * older but never wrong. Only with nothing usable kept (the first request after start, or a chain
   * the kept run has not seen) does the caller wait: there is nothing true to show before.
   */
  async current(): Promise<KeptVerification> {
    const kept = this.#kept;
    if (kept && (await this.#coversEveryChain(kept))) {
      if (this.#options.now().getTime() - kept.finishedAt.getTime() < this.#options.maxAgeMs) return { run: kept, refreshing: false };
      // A failed background run keeps the older result (its time says how old); the next request past the age tries again.
      this.#start().catch(() => undefined);
      return { run: kept, refreshing: true };
    }
    return { run: await this.#start(), refreshing: false };
  }

  async #coversEveryChain(kept: KeptRun): Promise<boolean> {
    const known = new Set(kept.chains.chains.map((chain) => chain.chainId));
    return (await this.#options.store.listChains()).every((chainId) => known.has(chainId));
  }

  #start(): Promise<KeptRun> {
    if (this.#running) {
      void this.#options.onEvent?.({ kind: 'joined' });
      return this.#running;
    }
    const running = this.#run()
      .catch(async (error: unknown) => {
        // Told as well as thrown: a background refresh's failure has no caller to throw to.
        await this.#options.onEvent?.({ kind: 'failed', error: error instanceof Error ? error.name : 'unknown' });
        throw error;
      })
      .finally(() => {
        this.#running = null;
      });
    this.#running = running;
    return running;
  }

  async #run(): Promise<KeptRun> {
    const { store, log, now } = this.#options;
    const chainIds = await store.listChains();
    await this.#options.onEvent?.({ kind: 'started', chains: chainIds.length });
    const chains = await verifyAccessLog(store, this.#options.publicJwks);
    let trees: Map<string, KeptTree> | null = null;
    if (log) {
      trees = new Map();
      // One chain after another: the run is there to bound the load on the database, not to be fast.
      for (const { chainId } of chains.chains) trees.set(chainId, { ...(await verifyTree(store, chainId, log)), verifiedAt: now().toISOString() });
    }
    const run: KeptRun = { finishedAt: now(), chains, trees };
    this.#kept = run;
    const broken = [
      ...new Set([...chains.chains.filter((chain) => !chain.ok).map((chain) => chain.chainId), ...[...(trees?.entries() ?? [])].filter(([, tree]) => !tree.ok).map(([chainId]) => chainId)]),
    ];
    await this.#options.onEvent?.({ kind: 'finished', chains: chains.chains.length, ok: chains.ok && broken.length === 0, broken });
    return run;
  }
}
