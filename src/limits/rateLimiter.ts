import type { RateLimits, TokenBucketLimit } from '../config/limitsConfig.js';

/** Whose requests are counted: the agency as a whole, and the acting official within it. */
export interface RateLimitKey {
  readonly agency: string;
  readonly official: string;
}

export type RateDecision = { readonly allowed: true } | { readonly allowed: false; readonly retryAfterMs: number; readonly scope: 'agency' | 'official' };

/**
 * Token buckets per agency and per official. `take` spends one token from both buckets or from
 * neither: a refused request must not eat into the quota it was refused for.
 */
export interface RateLimiter {
  take(key: RateLimitKey): Promise<RateDecision>;
  close(): Promise<void>;
}

export function agencyBucket(limits: RateLimits, agency: string): TokenBucketLimit {
  return limits.agencyOverrides.get(agency) ?? limits.agency;
}

interface Bucket {
  tokens: number;
  updatedAt: number;
}

/** Tokens after refilling since `updatedAt`; an unknown bucket is full. */
function level(bucket: Bucket | undefined, limit: TokenBucketLimit, now: number): number {
  if (!bucket) return limit.burst;
  return Math.min(limit.burst, bucket.tokens + (Math.max(0, now - bucket.updatedAt) * limit.perSecond) / 1000);
}

function waitMs(tokens: number, limit: TokenBucketLimit): number {
  return Math.ceil(((1 - tokens) * 1000) / limit.perSecond);
}

/**
 * The in-process limiter: exact for one gateway, and the fallback of the shared one. Full
 * buckets are forgotten (a full bucket and an unknown one behave alike), so memory follows the
 * callers active in the last refill period, which the agency buckets themselves bound.
 */
export class MemoryRateLimiter implements RateLimiter {
  readonly #buckets = new Map<string, Bucket>();
  readonly #now: () => number;
  #nextPrune = 0;

  constructor(
    private readonly limits: RateLimits,
    options: { readonly now?: () => number } = {},
  ) {
    this.#now = options.now ?? Date.now;
  }

  get size(): number {
    return this.#buckets.size;
  }

  async take(key: RateLimitKey): Promise<RateDecision> {
    return this.takeNow(key);
  }

  /** Synchronous, so the check and the spend cannot interleave with another request. */
  takeNow(key: RateLimitKey): RateDecision {
    const now = this.#now();
    if (now >= this.#nextPrune) this.#prune(now);
    const agencyLimit = agencyBucket(this.limits, key.agency);
    const officialLimit = this.limits.official;
    const agencyKey = `agency:${key.agency}`;
    const officialKey = `official:${key.agency}:${key.official}`;
    const agencyTokens = level(this.#buckets.get(agencyKey), agencyLimit, now);
    const officialTokens = level(this.#buckets.get(officialKey), officialLimit, now);
    if (agencyTokens >= 1 && officialTokens >= 1) {
      this.#buckets.set(agencyKey, { tokens: agencyTokens - 1, updatedAt: now });
      this.#buckets.set(officialKey, { tokens: officialTokens - 1, updatedAt: now });
      return { allowed: true };
    }
    const agencyWait = agencyTokens >= 1 ? 0 : waitMs(agencyTokens, agencyLimit);
    const officialWait = officialTokens >= 1 ? 0 : waitMs(officialTokens, officialLimit);
    return agencyWait >= officialWait ? { allowed: false, retryAfterMs: agencyWait, scope: 'agency' } : { allowed: false, retryAfterMs: officialWait, scope: 'official' };
  }

  async close(): Promise<void> {
    this.#buckets.clear();
  }

  #prune(now: number): void {
    for (const [key, bucket] of this.#buckets) {
      const limit = key.startsWith('agency:') ? agencyBucket(this.limits, key.slice('agency:'.length)) : this.limits.official;
      if (level(bucket, limit, now) >= limit.burst) this.#buckets.delete(key);
    }
    this.#nextPrune = now + 10_000;
  }
}
