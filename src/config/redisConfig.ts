import { ConfigError, envField, parseEnv } from './parseEnv.js';

/**
 * What the replay cache does while Redis cannot answer. `refuse` (the default): requests are
 * refused with REPLAY_CACHE_UNAVAILABLE, because a replica cannot know whether another replica
 * accepted the token. `local`: this replica's memory decides, which is exact only when the
 * gateway runs as a single replica.
 */
export type ReplayCacheFallback = 'refuse' | 'local';

/** How the gateway uses the Redis at REDIS_URL (the URL and key prefix are in the limits configuration). */
export interface RedisSettings {
  /** How long one Redis command may take before it fails (ioredis `commandTimeout`): the most a request waits for Redis. */
  readonly commandTimeoutMs: number;
  /** How long the Redis circuit stays open after a failure before one trial command is let through. */
  readonly breakerResetMs: number;
  readonly replayFallback: ReplayCacheFallback;
}

export const DEFAULT_REDIS_SETTINGS: RedisSettings = { commandTimeoutMs: 1000, breakerResetMs: 2000, replayFallback: 'refuse' };

/** Reads and validates REDIS_COMMAND_TIMEOUT_MS, REDIS_BREAKER_RESET_MS and REPLAY_CACHE_FALLBACK. */
export function loadRedisSettings(env: NodeJS.ProcessEnv = process.env): RedisSettings {
  const raw = parseEnv(
    {
      REDIS_COMMAND_TIMEOUT_MS: envField.positiveInt(DEFAULT_REDIS_SETTINGS.commandTimeoutMs),
      REDIS_BREAKER_RESET_MS: envField.positiveInt(DEFAULT_REDIS_SETTINGS.breakerResetMs),
      REPLAY_CACHE_FALLBACK: envField.enumOf(['refuse', 'local'] as const, DEFAULT_REDIS_SETTINGS.replayFallback),
    },
    env,
  );
  const problems: string[] = [];
  // A command still pending when its circuit half-opens would settle the trial in its place.
  if (raw.REDIS_COMMAND_TIMEOUT_MS >= raw.REDIS_BREAKER_RESET_MS) {
    problems.push(`REDIS_BREAKER_RESET_MS: ${raw.REDIS_BREAKER_RESET_MS} must be longer than REDIS_COMMAND_TIMEOUT_MS (${raw.REDIS_COMMAND_TIMEOUT_MS})`);
  }
  if (raw.REPLAY_CACHE_FALLBACK === 'local' && !env['REDIS_URL']) {
    problems.push('REPLAY_CACHE_FALLBACK: "local" applies only with REDIS_URL (without Redis the replay cache is always this replica\'s memory)');
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return { commandTimeoutMs: raw.REDIS_COMMAND_TIMEOUT_MS, breakerResetMs: raw.REDIS_BREAKER_RESET_MS, replayFallback: raw.REPLAY_CACHE_FALLBACK };
}
