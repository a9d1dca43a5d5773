import { GatewayError } from '../errors/index.js';

/**
 * Remembers request-token ids for as long as the tokens could still be accepted, so a token
 * captured on the way (or logged by mistake) cannot be sent a second time. `claim` is atomic:
 * it returns true for the first caller only. A shared store (Redis SET NX PXAT) implements the
 * same interface when the gateway runs as several instances.
 */
export interface ReplayCache {
  /** True when `jti` was unseen and is now remembered until `expiresAt`; false when it was already claimed. */
  claim(jti: string, expiresAt: Date): Promise<boolean>;
}

export interface MemoryReplayCacheOptions {
  readonly now?: () => number;
  /**
   * Upper bound on remembered ids. Tokens live five minutes at most, so this is only reached
   * under a flood; new tokens are then refused (fail closed) rather than forgetting old ids.
   */
  readonly maxEntries?: number;
}

export class MemoryReplayCache implements ReplayCache {
  readonly #expiries = new Map<string, number>();
  readonly #now: () => number;
  readonly #maxEntries: number;
  #nextPrune = 0;

  constructor(options: MemoryReplayCacheOptions = {}) {
    this.#now = options.now ?? Date.now;
    this.#maxEntries = options.maxEntries ?? 1_000_000;
  }

  get size(): number {
    return this.#expiries.size;
  }

  async claim(jti: string, expiresAt: Date): Promise<boolean> {
    const now = this.#now();
    if (now >= this.#nextPrune || this.#expiries.size >= this.#maxEntries) this.#prune(now);
    const remembered = this.#expiries.get(jti);
    if (remembered !== undefined && remembered > now) return false;
    if (this.#expiries.size >= this.#maxEntries) {
      throw new GatewayError('RATE_LIMITED', 'Too many request tokens in flight; retry shortly.');
    }
    this.#expiries.set(jti, expiresAt.getTime());
    return true;
  }

  #prune(now: number): void {
    for (const [jti, expiresAt] of this.#expiries) if (expiresAt <= now) this.#expiries.delete(jti);
    this.#nextPrune = now + 10_000;
  }
}
