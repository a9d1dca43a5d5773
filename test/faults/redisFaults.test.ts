import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../support/stack.js';
import { certificateAgent, DEV_OPERATOR, get } from '../support/certificateAgent.js';
import { createRawClient, type RawClient } from '../support/rawClient.js';
import { declareReplayKeyspaceUnused, startCommandCountingProxy, startRedisServer, type CommandCountingProxy, type RedisServer } from '../support/redisServer.js';
import type { RequestTokenClaims } from '../../src/client/mintRequestToken.js';

/**
 * A hung Redis (SIGSTOP: connections open, nothing answered) must cost at most one command timeout
 * per breaker window in all, not one per request and Redis user. Counted, not timed: a proxy in
 * front of Redis counts the commands the gateway sends it while it hangs.
 */
const codes = (json: any): unknown[] => (json?.errors ?? []).map((e: { extensions?: { code?: unknown } }) => e.extensions?.code);
const BODY = JSON.stringify({ query: '{ myAgreements { id } }' });

function metric(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('a hung Redis', () => {
  let redis: RedisServer;
  let proxy: CommandCountingProxy;
  let stack: Stack;
  let local: RawClient;
  let refusing: RawClient;
  const prefix = `test-${randomUUID()}`;

  beforeAll(async () => {
    redis = await startRedisServer();
    proxy = await startCommandCountingProxy(redis.port);
    await declareReplayKeyspaceUnused(redis.url, prefix);
    // A breaker window far longer than the test: no trial command goes out while Redis hangs, however slow the machine.
    const env = { REDIS_URL: proxy.url, REDIS_PREFIX: prefix, REDIS_BREAKER_RESET_MS: '600000', RATE_LIMIT_ENABLED: 'true', RATE_LIMIT_AGENCY: '1000/100', RATE_LIMIT_OFFICIAL: '1000/100' };
    // Both Redis users on one replica (its replay cache falls back to memory, so requests reach the rate limiter) ...
    stack = await startStack({ persons: 300, env: { ...env, REPLAY_CACHE_FALLBACK: 'local' } });
    // ... and a replica as deployed by default, whose replay cache refuses.
    const second = await stack.replica({ REPLAY_CACHE_FALLBACK: 'refuse' });
    local = createRawClient(stack.certsDir, 'malmo-stad', stack.gateway.url);
    refusing = createRawClient(stack.certsDir, 'malmo-stad', second.gateway.url);
  });

  afterAll(async () => {
    redis?.resume();
    await local?.close();
    await refusing?.close();
    await stack?.close();
    await proxy?.close();
    await redis?.close();
  });

  const claims = (): RequestTokenClaims => ({ official: 'handlaggare-9', purpose: 'CASE_HANDLING', caseId: 'HUNG-1', subjects: [stack.sample.withBenefits] });

  it('costs one command timeout in all, not one per request: one circuit for the replay cache and the rate limiter', async () => {
    // Healthy first: both replicas' scripts are loaded and their connections ready.
    expect((await local.send({ claims: claims(), body: BODY })).status).toBe(200);
    expect((await refusing.send({ claims: claims(), body: BODY })).status).toBe(200);
    redis.pause();
    try {
      const before = proxy.commands();
      for (let i = 0; i < 4; i++) expect((await local.send({ claims: claims(), body: BODY })).status).toBe(200);
      expect(proxy.commands() - before).toBe(1);

      const beforeRefusing = proxy.commands();
      for (let i = 0; i < 4; i++) {
        const refused = await refusing.send({ claims: claims(), body: BODY });
        expect(refused.status).toBe(503);
        expect(codes(refused.json)).toEqual(['REPLAY_CACHE_UNAVAILABLE']);
        expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      }
      expect(proxy.commands() - beforeRefusing).toBe(1);

      // The first request's replay claim timed out and opened the circuit; every later command of either user was refused by it.
      const operator = certificateAgent(stack.certsDir, 'officials', DEV_OPERATOR);
      const metrics = (await get(stack.gateway.url, '/metrics', operator)).text;
      await operator.close();
      expect(metric(metrics, 'gateway_redis_circuit_state')).toBe(2);
      expect(metric(metrics, 'gateway_redis_unavailable_total{use="replay-cache",reason="timeout"}')).toBe(1);
      expect(metric(metrics, 'gateway_redis_unavailable_total{use="replay-cache",reason="circuit-open"}')).toBe(3);
      expect(metric(metrics, 'gateway_redis_unavailable_total{use="rate-limit",reason="circuit-open"}')).toBe(4);
      expect(metric(metrics, 'gateway_redis_unavailable_total{use="rate-limit",reason="timeout"}')).toBeUndefined();
      expect(metric(metrics, 'gateway_shared_store_fallbacks_total{use="rate-limit"}')).toBe(4);
    } finally {
      redis.resume();
    }
  });
});
