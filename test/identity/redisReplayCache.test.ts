import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedisServer, type RedisServer } from '../support/redisServer.js';
import { connectSharedRedis, type SharedRedis } from '../../src/redis/sharedRedis.js';
import { RedisReplayCache } from '../../src/identity/redisReplayCache.js';
import type { ReplayClaim } from '../../src/identity/replayCache.js';

/** RedisReplayCache against a redis-server of the test's own: two caches on two connections are two replicas. */
const TOLERANCE_MS = 30_000;
const tokenClaim = (issuedAt = new Date()): ReplayClaim => ({
  id: `212000-1124/${randomUUID()}`,
  issuedAt,
  acceptableUntil: new Date(issuedAt.getTime() + 90_000),
  clockToleranceMs: TOLERANCE_MS,
});
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let server: RedisServer;
let connections: SharedRedis[] = [];

async function replica(options: { prefix: string; fallback?: 'refuse' | 'local'; now?: () => number }): Promise<{ cache: RedisReplayCache; redis: SharedRedis }> {
  const redis = await connectSharedRedis(server.url, { settings: { commandTimeoutMs: 1000, breakerResetMs: 5000 }, ...(options.now ? { now: options.now } : {}) });
  connections.push(redis);
  return { cache: new RedisReplayCache(redis, { prefix: options.prefix, ...(options.fallback ? { fallback: options.fallback } : {}) }), redis };
}

async function untilReady(redis: SharedRedis): Promise<void> {
  for (let attempt = 0; attempt < 100 && redis.client.status !== 'ready'; attempt++) await sleep(100);
}

beforeAll(async () => {
  server = await startRedisServer();
});

afterAll(async () => {
  await Promise.all(connections.map((c) => c.close()));
  connections = [];
  await server?.close();
});

describe('RedisReplayCache', () => {
  it('claims a token once across replicas', async () => {
    const prefix = randomUUID();
    const [a, b] = [await replica({ prefix }), await replica({ prefix })];
    await a.cache.declareUnused();
    const claim = tokenClaim();
    const outcomes = await Promise.all([a.cache.claim(claim), b.cache.claim(claim), a.cache.claim(claim), b.cache.claim(claim)]);
    expect(outcomes.filter(Boolean)).toHaveLength(1);
  });

  it('refuses, after Redis lost its claims, every token that could have been accepted before, and tells when a new one will be', async () => {
    const prefix = randomUUID();
    const [a, b] = [await replica({ prefix }), await replica({ prefix })];
    await a.cache.declareUnused();
    const claim = tokenClaim();
    expect(await a.cache.claim(claim)).toBe(true);
    await server.command('FLUSHALL');
    await expect(b.cache.claim(claim)).rejects.toMatchObject({ code: 'REPLAY_CACHE_RESET', extensions: { retryAfterSeconds: expect.any(Number) } });
    // The replica that claimed it still knows, without Redis.
    expect(await a.cache.claim(claim)).toBe(false);
    // A new keyspace cannot be declared unused over the epoch that records the loss.
    expect(await b.cache.declareUnused()).toBe(false);
    const now = Date.now();
    await expect(b.cache.claim(tokenClaim(new Date(now)))).rejects.toMatchObject({ code: 'REPLAY_CACHE_RESET' });
    // Issued a clock tolerance after the epoch (set before `now`): it cannot have been seen before.
    const later = tokenClaim(new Date(now + TOLERANCE_MS));
    expect(await b.cache.claim(later)).toBe(true);
    expect(await a.cache.claim(later)).toBe(false);
  });

  it("holds iat to Redis's clock too, so a gateway clock running ahead cannot let a token claimed before a reset through", async () => {
    const prefix = randomUUID();
    const { cache } = await replica({ prefix });
    await cache.declareUnused();
    const ahead = tokenClaim(new Date(Date.now() + TOLERANCE_MS + 60_000));
    await expect(cache.claim(ahead)).rejects.toMatchObject({ code: 'TOKEN_INVALID_CLAIM', extensions: { claim: 'iat' } });
    expect(await cache.claim({ ...ahead, issuedAt: new Date() })).toBe(true);
  });

  it('refuses while Redis is down and forgets the refused claim, so the token can be sent again once Redis is back', async () => {
    const prefix = randomUUID();
    let now = 0;
    const { cache, redis } = await replica({ prefix, now: () => now });
    await cache.declareUnused();
    const claim = tokenClaim();
    await server.kill();
    try {
      await expect(cache.claim(claim)).rejects.toMatchObject({ code: 'REPLAY_CACHE_UNAVAILABLE', extensions: { retryAfterSeconds: 5 } });
      await expect(cache.claim(claim)).rejects.toMatchObject({ code: 'REPLAY_CACHE_UNAVAILABLE' });
    } finally {
      await server.start();
    }
    await untilReady(redis);
    now = 5000;
    // A restarted Redis without persistence: a new keyspace for this test's purpose.
    expect(await cache.declareUnused()).toBe(true);
    expect(await cache.claim(claim)).toBe(true);
    expect(await cache.claim(claim)).toBe(false);
  });

  it('with fallback local, lets this replica decide while Redis is down', async () => {
    const prefix = randomUUID();
    const { cache, redis } = await replica({ prefix, fallback: 'local' });
    await cache.declareUnused();
    const claim = tokenClaim();
    await server.kill();
    try {
      expect(await cache.claim(claim)).toBe(true);
      expect(await cache.claim(claim)).toBe(false);
    } finally {
      await server.start();
    }
    await untilReady(redis);
  });
});

describe('a Redis that may evict keys', () => {
  it('is not trusted with request-token ids (REPLAY_CACHE_UNAVAILABLE) until its policy is noeviction', async () => {
    const evicting = await startRedisServer({ args: ['--maxmemory', '64mb', '--maxmemory-policy', 'volatile-lru'] });
    const redis = await connectSharedRedis(evicting.url);
    const claim = tokenClaim();
    try {
      const cache = new RedisReplayCache(redis, { prefix: 'evicting' });
      await cache.declareUnused();
      expect(redis.evictionPolicy).toMatchObject({ policy: 'volatile-lru', mayEvict: true });
      await expect(cache.claim(claim)).rejects.toMatchObject({ code: 'REPLAY_CACHE_UNAVAILABLE' });
      await evicting.command('CONFIG', 'SET', 'maxmemory-policy', 'noeviction');
      await redis.readEvictionPolicy();
      expect(await cache.claim(claim)).toBe(true);
      expect(await cache.claim(claim)).toBe(false);
    } finally {
      await redis.close();
      await evicting.close();
    }
  });

  it('without a memory limit never evicts, whatever the policy', async () => {
    const unlimited = await startRedisServer({ args: ['--maxmemory', '0', '--maxmemory-policy', 'allkeys-lru'] });
    const redis = await connectSharedRedis(unlimited.url);
    try {
      expect(redis.evictionPolicy).toMatchObject({ policy: 'allkeys-lru', maxmemoryBytes: 0, mayEvict: false });
    } finally {
      await redis.close();
      await unlimited.close();
    }
  });
});
