import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startRedisServer, type RedisServer } from '../support/redisServer.js';
import { connectSharedRedis, type SharedRedis } from '../../src/redis/sharedRedis.js';
import { DEFAULT_REDIS_SETTINGS, loadRedisSettings } from '../../src/config/redisConfig.js';

/** The circuit breaker of the shared Redis connection, against a redis-server of the test's own, hung with SIGSTOP. */
describe('the Redis circuit', () => {
  let server: RedisServer;
  let redis: SharedRedis;
  // The breaker's clock: the window passes when the test says so.
  let now = 0;

  beforeEach(async () => {
    server = await startRedisServer();
    now = 0;
    redis = await connectSharedRedis(server.url, { now: () => now, settings: { commandTimeoutMs: 1000, breakerResetMs: 10_000 } });
  });

  afterEach(async () => {
    server.resume();
    await redis.close();
    await server.close();
  });

  it('opens on a timeout, refuses at once while open, and closes when its trial command succeeds', async () => {
    const events: string[] = [];
    redis.observe((event) => {
      if (event.type === 'circuit') events.push(event.state);
      if (event.type === 'unavailable') events.push(`${event.use} ${event.reason}`);
    });
    expect(await redis.run('rate-limit', (client) => client.ping())).toBe('PONG');
    server.pause();
    await expect(redis.run('replay-cache', (client) => client.ping())).rejects.toMatchObject({ reason: 'timeout', retryAfterMs: 10_000 });
    now = 4000;
    await expect(redis.run('rate-limit', (client) => client.ping())).rejects.toMatchObject({ reason: 'circuit-open', retryAfterMs: 6000 });
    server.resume();
    now = 10_000;
    // The trial: Redis answers again (first the reply it owed the timed-out command).
    expect(await redis.run('rate-limit', (client) => client.ping())).toBe('PONG');
    expect(redis.circuitState).toBe('closed');
    expect(await redis.run('replay-cache', (client) => client.ping())).toBe('PONG');
    expect(events).toEqual(['open', 'replay-cache timeout', 'rate-limit circuit-open', 'half-open', 'closed']);
  });

  it('lets one trial command through at a time and opens again when it fails', async () => {
    server.pause();
    await expect(redis.run('replay-cache', (client) => client.ping())).rejects.toMatchObject({ reason: 'timeout' });
    now = 10_000;
    const trial = redis.run('replay-cache', (client) => client.ping());
    await expect(redis.run('rate-limit', (client) => client.ping())).rejects.toMatchObject({ reason: 'circuit-open' });
    await expect(trial).rejects.toMatchObject({ reason: 'timeout', retryAfterMs: 10_000 });
    expect(redis.circuitState).toBe('open');
  });

  it('fails a command at once while Redis is down, without queueing it for the reconnection', async () => {
    await server.kill();
    await expect(redis.run('replay-cache', (client) => client.ping())).rejects.toMatchObject({ reason: 'error' });
    expect(redis.circuitState).toBe('open');
  });
});

describe('Redis configuration', () => {
  it('names the variable of a bad value', () => {
    expect(loadRedisSettings({})).toEqual(DEFAULT_REDIS_SETTINGS);
    expect(loadRedisSettings({ REDIS_URL: 'redis://127.0.0.1:6379', REPLAY_CACHE_FALLBACK: 'local', REDIS_COMMAND_TIMEOUT_MS: '250', REDIS_BREAKER_RESET_MS: '5000' })).toEqual({
      commandTimeoutMs: 250,
      breakerResetMs: 5000,
      replayFallback: 'local',
    });
    expect(() => loadRedisSettings({ REDIS_URL: 'redis://127.0.0.1:6379', REPLAY_CACHE_FALLBACK: 'sometimes' })).toThrow(/REPLAY_CACHE_FALLBACK/);
    expect(() => loadRedisSettings({ REPLAY_CACHE_FALLBACK: 'local' })).toThrow(/REPLAY_CACHE_FALLBACK/);
    expect(() => loadRedisSettings({ REDIS_COMMAND_TIMEOUT_MS: '0' })).toThrow(/REDIS_COMMAND_TIMEOUT_MS/);
    expect(() => loadRedisSettings({ REDIS_COMMAND_TIMEOUT_MS: '2000', REDIS_BREAKER_RESET_MS: '2000' })).toThrow(/REDIS_BREAKER_RESET_MS/);
  });
});
