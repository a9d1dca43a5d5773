import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../support/stack.js';
import { createRawClient, type RawClient } from '../support/rawClient.js';
import { createGateway, type RunningGateway } from '../../src/createGateway.js';
import { loadGatewayConfig } from '../../src/config/gatewayConfig.js';
import { loadLimitsConfig } from '../../src/config/limitsConfig.js';
import { MemoryRateLimiter, RedisRateLimiter } from '../../src/limits/index.js';
import { RedisReplayCache } from '../../src/identity/redisReplayCache.js';
import { connectSharedRedis } from '../../src/redis/sharedRedis.js';
import { WHOLE_REQUEST_FIELD, validateAccessLogEntry, InvalidAccessLogEntryError } from '../../src/audit/entry.js';
import { rateLimitedEntries } from '../../src/limits/rateLimitAdmission.js';
import type { RequestTokenClaims } from '../../src/client/mintRequestToken.js';

const codes = (json: any): unknown[] => (json?.errors ?? []).map((e: { extensions?: { code?: unknown } }) => e.extensions?.code);
const REDIS_URL = 'redis://127.0.0.1:6379';

describe('token buckets (in-process)', () => {
  const limits = { agency: { burst: 3, perSecond: 1 }, official: { burst: 2, perSecond: 1 }, agencyOverrides: new Map([['csn', { burst: 5, perSecond: 1 }]]) };

  it('lets the burst through, then refuses with the time until the next token', async () => {
    let now = 1_000_000;
    const limiter = new MemoryRateLimiter(limits, { now: () => now });
    expect(await limiter.take({ agency: 'malmo-stad', official: 'a' })).toEqual({ allowed: true });
    expect(await limiter.take({ agency: 'malmo-stad', official: 'a' })).toEqual({ allowed: true });
    expect(await limiter.take({ agency: 'malmo-stad', official: 'a' })).toEqual({ allowed: false, retryAfterMs: 1000, scope: 'official' });
    now += 500;
    expect(await limiter.take({ agency: 'malmo-stad', official: 'a' })).toEqual({ allowed: false, retryAfterMs: 500, scope: 'official' });
    now += 500;
    expect(await limiter.take({ agency: 'malmo-stad', official: 'a' })).toEqual({ allowed: true });
  });

  it('limits the agency as a whole across its officials', async () => {
    const limiter = new MemoryRateLimiter(limits, { now: () => 5 });
    for (const official of ['a', 'b', 'c']) expect((await limiter.take({ agency: 'malmo-stad', official })).allowed).toBe(true);
    expect(await limiter.take({ agency: 'malmo-stad', official: 'd' })).toMatchObject({ allowed: false, scope: 'agency' });
    // Another agency has its own bucket; csn has a larger one.
    for (let i = 0; i < 5; i++) expect((await limiter.take({ agency: 'csn', official: `o${i}` })).allowed).toBe(true);
  });

  it('does not spend the agency token of a request the official bucket refuses', async () => {
    const limiter = new MemoryRateLimiter(limits, { now: () => 5 });
    await limiter.take({ agency: 'x', official: 'a' });
    await limiter.take({ agency: 'x', official: 'a' });
    expect((await limiter.take({ agency: 'x', official: 'a' })).allowed).toBe(false);
    expect((await limiter.take({ agency: 'x', official: 'b' })).allowed).toBe(true);
  });
});

describe('token buckets shared through Redis', () => {
  it('gives exactly the burst to concurrent requests (the script is atomic)', async () => {
    const redis = await connectSharedRedis(REDIS_URL);
    try {
      const limiter = new RedisRateLimiter(
        redis,
        { agency: { burst: 10, perSecond: 0.001 }, official: { burst: 100, perSecond: 0.001 }, agencyOverrides: new Map() },
        { prefix: `test:${randomUUID()}` },
      );
      const decisions = await Promise.all(Array.from({ length: 30 }, (_, i) => limiter.take({ agency: 'malmo-stad', official: `o${i % 3}` })));
      expect(decisions.filter((d) => d.allowed)).toHaveLength(10);
      expect(decisions.find((d) => !d.allowed)).toMatchObject({ scope: 'agency', retryAfterMs: expect.any(Number) });
    } finally {
      await redis.close();
    }
  });

  it("falls back to this replica's buckets when Redis is unreachable", async () => {
    const redis = await connectSharedRedis('redis://127.0.0.1:1', { readyTimeoutMs: 50 });
    let fallbacks = 0;
    const limiter = new RedisRateLimiter(redis, { agency: { burst: 1, perSecond: 0.001 }, official: { burst: 1, perSecond: 0.001 }, agencyOverrides: new Map() }, { onFallback: () => fallbacks++ });
    expect((await limiter.take({ agency: 'a', official: 'b' })).allowed).toBe(true);
    expect((await limiter.take({ agency: 'a', official: 'b' })).allowed).toBe(false);
    expect(fallbacks).toBe(2);
    await redis.close();
  });
});

describe('rate limits at the gateway', () => {
  let stack: Stack;
  let second: RunningGateway;
  let first: RawClient;
  let other: RawClient;
  const prefix = `test-${randomUUID()}`;
  const env = { RATE_LIMIT_ENABLED: 'true', RATE_LIMIT_AGENCY: '6/0.001', RATE_LIMIT_OFFICIAL: '4/0.001', REDIS_URL, REDIS_PREFIX: prefix };

  beforeAll(async () => {
    stack = await startStack({ persons: 300, env });
    // A second replica: its own listener, limiter and Redis connection, the same Redis and log.
    const config = loadGatewayConfig({
      GATEWAY_PORT: '0',
      SUBGRAPH_URLS: [...stack.subgraphs.values()].map((s) => `${s.name}=${s.url}`).join(','),
      ...env,
    });
    const redis = await connectSharedRedis(REDIS_URL);
    const replayCache = new RedisReplayCache(redis, { prefix: `${prefix}:jti` });
    // A new keyspace: without this, tokens from its first 30 s would be refused as possibly used before.
    await replayCache.declareUnused();
    second = await createGateway(config, { ...stack.deps, replayCache, redis, observeAccessLog: undefined as never });
    const close = second.close.bind(second);
    second = {
      ...second,
      close: async () => {
        await close();
        await redis.close();
      },
    };
    first = createRawClient(stack.certsDir, 'malmo-stad', stack.gateway.url);
    other = createRawClient(stack.certsDir, 'malmo-stad', second.url);
  });

  afterAll(async () => {
    await first?.close();
    await other?.close();
    await second?.close();
    await stack?.close();
  });

  const claimsFor = (official: string, caseId: string): RequestTokenClaims => ({ official, purpose: 'CASE_HANDLING', caseId, subjects: [stack.sample.withBenefits] });
  const body = JSON.stringify({ query: '{ myAgreements { id } }' });

  it('enforces one official limit across two replicas and answers 429 with Retry-After', async () => {
    const statuses: number[] = [];
    for (const client of [first, other, first, other]) statuses.push((await client.send({ claims: claimsFor('official-a', 'RATE-1'), body })).status);
    expect(statuses).toEqual([200, 200, 200, 200]);
    const refused = await other.send({ claims: claimsFor('official-a', 'RATE-1'), body });
    expect(refused.status).toBe(429);
    expect(codes(refused.json)).toEqual(['RATE_LIMITED']);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect((await first.send({ claims: claimsFor('official-a', 'RATE-1'), body })).status).toBe(429);
  });

  it('enforces the agency limit across its officials', async () => {
    // The agency bucket (6) had 4 tokens spent above; two more officials get one each, then none.
    expect((await first.send({ claims: claimsFor('official-b', 'RATE-2'), body })).status).toBe(200);
    expect((await other.send({ claims: claimsFor('official-c', 'RATE-2'), body })).status).toBe(200);
    const refused = await first.send({ claims: claimsFor('official-d', 'RATE-2'), body });
    expect(refused.status).toBe(429);
    expect(refused.json.errors[0].extensions).toMatchObject({ code: 'RATE_LIMITED', scope: 'agency' });
  });

  it('logs each refusal as a denial of the whole request, for each subject of the case', async () => {
    const page = await stack.deps.openedAccessLog.store.query({ caseId: 'RATE-1', outcome: 'denied' }, null, 100);
    expect(page.entries.length).toBeGreaterThanOrEqual(2);
    for (const entry of page.entries) {
      expect(entry).toMatchObject({ field: WHOLE_REQUEST_FIELD, outcome: 'denied', outcomeCode: 'RATE_LIMITED', owningAgency: 'gateway', clientAgencyId: 'malmo-stad' });
      expect(entry.subjectHmac).toMatch(/^[0-9a-f]{64}$/);
    }
  });

  it('refuses a replayed token on the other replica', async () => {
    const replayClaims = claimsFor('official-replay', 'RATE-3');
    const fresh = createRawClient(stack.certsDir, 'csn', stack.gateway.url);
    const freshOther = createRawClient(stack.certsDir, 'csn', second.url);
    try {
      const token = await fresh.mint({ ...replayClaims });
      expect((await fresh.send({ token, body })).status).toBe(200);
      const replay = await freshOther.send({ token, body });
      expect(replay.status).toBe(401);
      expect(codes(replay.json)).toEqual(['TOKEN_REPLAYED']);
    } finally {
      await fresh.close();
      await freshOther.close();
    }
  });
});

describe('limits configuration', () => {
  it('names the variable of a bad value', () => {
    expect(() => loadLimitsConfig({ RATE_LIMIT_AGENCY: 'fast' })).toThrow(/RATE_LIMIT_AGENCY/);
    expect(() => loadLimitsConfig({ LIMIT_PERSONS: '0' })).toThrow(/LIMIT_PERSONS/);
    expect(() => loadLimitsConfig({ SUBGRAPH_TIMEOUTS: 'csn=soon' })).toThrow(/SUBGRAPH_TIMEOUTS/);
    expect(() => loadLimitsConfig({ REDIS_URL: 'http://x' })).toThrow(/REDIS_URL/);
    expect(() => loadLimitsConfig({ CERT_MIN_VALID_DAYS: '40', CERT_WARN_DAYS: '30' })).toThrow(/CERT_WARN_DAYS/);
    expect(loadLimitsConfig({ SUBGRAPH_TIMEOUTS: 'csn=1500', RATE_LIMIT_AGENCY_OVERRIDES: 'skatteverket=900/300' })).toMatchObject({
      subgraphs: { timeoutsMs: new Map([['csn', 1500]]) },
      rateLimits: { agencyOverrides: new Map([['skatteverket', { burst: 900, perSecond: 300 }]]) },
    });
  });
});

describe('rate-limit denial entries', () => {
  const caller = {
    agency: { organisationNumber: '212000-1124', id: 'malmo-stad', name: 'Malmö stad' },
    official: 'o-1',
    purpose: 'CASE_HANDLING' as const,
    caseId: 'C-1',
    subjects: ['197803304117'],
    requestId: 'r-1',
    certificateThumbprint: 't',
    tokenId: 'j',
  };

  it('are valid access-log entries naming the whole request', () => {
    const [entry] = rateLimitedEntries(caller, { query: '{ myAgreements { id } }', operationName: 'Mine' });
    expect(() => validateAccessLogEntry(entry!)).not.toThrow();
    expect(entry).toMatchObject({ field: WHOLE_REQUEST_FIELD, outcome: 'denied', outcomeCode: 'RATE_LIMITED', operationName: 'Mine', subject: '197803304117' });
  });

  it('the whole-request field is only allowed for denials', () => {
    const [entry] = rateLimitedEntries(caller, {});
    expect(() => validateAccessLogEntry({ ...entry!, outcome: 'released', outcomeCode: null })).toThrow(InvalidAccessLogEntryError);
  });
});
