import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../support/stack.js';
import { createRawClient, type RawClient, type RawResponse } from '../support/rawClient.js';
import { declareReplayKeyspaceUnused, startRedisServer, type RedisServer } from '../support/redisServer.js';
import type { RequestTokenClaims } from '../../src/client/mintRequestToken.js';

/**
 * "Accepted once by the whole deployment" across Redis failures: two gateway replicas share a
 * redis-server of this test's own, which the test restarts, flushes, rolls back to an older
 * snapshot and stops. A token accepted before is never accepted again, at either replica.
 */
const codes = (json: any): unknown[] => (json?.errors ?? []).map((e: { extensions?: { code?: unknown } }) => e.extensions?.code);
const BODY = JSON.stringify({ query: '{ myAgreements { id } }' });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let redis: RedisServer;
let stack: Stack;
let first: RawClient;
let other: RawClient;
const prefix = `test-${randomUUID()}`;

beforeAll(async () => {
  redis = await startRedisServer();
  stack = await startStack({ persons: 300, env: { REDIS_URL: redis.url, REDIS_PREFIX: prefix, REDIS_BREAKER_RESET_MS: '1500' } });
  const second = await stack.replica();
  first = createRawClient(stack.certsDir, 'malmo-stad', stack.gateway.url);
  other = createRawClient(stack.certsDir, 'malmo-stad', second.gateway.url);
});

afterAll(async () => {
  await first?.close();
  await other?.close();
  await stack?.close();
  await redis?.close();
});

const claims = (): RequestTokenClaims => ({ official: 'handlaggare-7', purpose: 'CASE_HANDLING', caseId: 'REPLAY-1', subjects: [stack.sample.withBenefits] });

/** A deployment that has been running for a while: the keyspace empty and its epoch long past. */
async function freshKeyspace(): Promise<void> {
  await redis.command('FLUSHALL');
  await declareReplayKeyspaceUnused(redis.url, prefix);
}

/**
 * Sends fresh tokens until the replica reaches Redis again (its connection re-established after a
 * restart, its circuit closed by a trial) and returns the first answer that is not
 * REPLAY_CACHE_UNAVAILABLE.
 */
async function untilRedisAnswers(client: RawClient): Promise<RawResponse> {
  for (let attempt = 0; attempt < 40; attempt++) {
    const response = await client.send({ claims: claims(), body: BODY });
    if (codes(response.json)[0] !== 'REPLAY_CACHE_UNAVAILABLE') return response;
    await sleep(500);
  }
  throw new Error('the replica did not reach Redis again');
}

describe('a token accepted before Redis loses its memory is refused after, at every replica', () => {
  const losses: ReadonlyArray<{ readonly name: string; readonly beforeClaim?: () => Promise<unknown>; readonly lose: () => Promise<unknown> }> = [
    {
      name: 'restarts without persistence',
      lose: async () => {
        await redis.kill();
        return redis.start();
      },
    },
    { name: 'is flushed (FLUSHALL)', lose: () => redis.command('FLUSHALL') },
    // The epoch survives in the snapshot: only Redis's new run_id tells that claims were lost.
    {
      name: 'restarts from a snapshot saved before the claim',
      beforeClaim: () => redis.command('SAVE'),
      lose: async () => {
        await redis.kill();
        return redis.start();
      },
    },
  ];

  it.each(losses)('Redis $name', async ({ beforeClaim, lose }) => {
    await freshKeyspace();
    await untilRedisAnswers(first);
    await untilRedisAnswers(other);
    await beforeClaim?.();
    const token = await first.mint(claims());
    expect((await first.send({ token, body: BODY })).status).toBe(200);

    await lose();
    await untilRedisAnswers(other);
    const elsewhere = await other.send({ token, body: BODY });
    expect(elsewhere.status).toBe(503);
    expect(codes(elsewhere.json)).toEqual(['REPLAY_CACHE_RESET']);
    expect(Number(elsewhere.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(elsewhere.json.data ?? null).toBeNull();
    // The replica that accepted it remembers it itself, whatever Redis forgot.
    const here = await first.send({ token, body: BODY });
    expect(here.status).toBe(401);
    expect(codes(here.json)).toEqual(['TOKEN_REPLAYED']);
  });

  it('refuses fresh tokens for the clock tolerance after the reset, and accepts one minted when Retry-After says', async () => {
    await freshKeyspace();
    await untilRedisAnswers(first);
    await redis.command('FLUSHALL');
    const refused = await first.send({ claims: claims(), body: BODY });
    expect(refused.status).toBe(503);
    expect(codes(refused.json)).toEqual(['REPLAY_CACHE_RESET']);
    const retryAfterSeconds = Number(refused.headers['retry-after']);
    expect(retryAfterSeconds).toBeGreaterThanOrEqual(1);
    expect(retryAfterSeconds).toBeLessThanOrEqual(30);
    expect(refused.json.errors[0].extensions.retryAfterSeconds).toBe(retryAfterSeconds);
    // Rather than wait: a token from a client whose clock runs Retry-After ahead (within the
    // tolerance), minted a second later so the rounding of Retry-After cannot matter.
    await sleep(1000);
    const token = await first.mint({ ...claims(), now: new Date(Date.now() + retryAfterSeconds * 1000) });
    expect((await other.send({ token, body: BODY })).status).toBe(200);
    expect(codes((await first.send({ token, body: BODY })).json)).toEqual(['TOKEN_REPLAYED']);
  });
});

describe('while Redis is down', () => {
  it('refuses a token no replica can check (503, Retry-After), and the replay of one this replica accepted (401)', async () => {
    await freshKeyspace();
    await untilRedisAnswers(first);
    await untilRedisAnswers(other);
    const token = await first.mint(claims());
    expect((await first.send({ token, body: BODY })).status).toBe(200);
    await redis.kill();
    try {
      const elsewhere = await other.send({ token, body: BODY });
      expect(elsewhere.status).toBe(503);
      expect(codes(elsewhere.json)).toEqual(['REPLAY_CACHE_UNAVAILABLE']);
      expect(Number(elsewhere.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      const here = await first.send({ token, body: BODY });
      expect(here.status).toBe(401);
      expect(codes(here.json)).toEqual(['TOKEN_REPLAYED']);
      const fresh = await first.send({ claims: claims(), body: BODY });
      expect(fresh.status).toBe(503);
      expect(codes(fresh.json)).toEqual(['REPLAY_CACHE_UNAVAILABLE']);
    } finally {
      await redis.start();
    }
    // Back: the same token is still refused (the replica that saw it; Redis's epoch elsewhere).
    await untilRedisAnswers(other);
    expect(codes((await other.send({ token, body: BODY })).json)).toEqual(['REPLAY_CACHE_RESET']);
  });

  it('with REPLAY_CACHE_FALLBACK=local (a single replica), lets its own memory decide', async () => {
    await freshKeyspace();
    const single = await stack.replica({ REPLAY_CACHE_FALLBACK: 'local' });
    const client = createRawClient(stack.certsDir, 'malmo-stad', single.gateway.url);
    await redis.kill();
    try {
      const token = await client.mint(claims());
      expect((await client.send({ token, body: BODY })).status).toBe(200);
      const replay = await client.send({ token, body: BODY });
      expect(replay.status).toBe(401);
      expect(codes(replay.json)).toEqual(['TOKEN_REPLAYED']);
    } finally {
      await client.close();
      await redis.start();
    }
  });
});
