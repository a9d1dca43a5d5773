import { z } from 'zod';
import { ConfigError, envField, parseEnv } from './parseEnv.js';
import { loadListenerLimits, type ListenerLimits } from './listenerConfig.js';

/** Static limits on one operation, checked after validation and before any subgraph is called. */
export interface OperationLimits {
  /** Lexical tokens of the document (graphql-js `maxTokens`): bounds parsing work. */
  readonly maxTokens: number;
  /** Nesting of selection sets, fragments expanded. */
  readonly maxDepth: number;
  /** Aliased fields, fragments expanded as often as they are spread. */
  readonly maxAliases: number;
  /** Fields on the root type, fragments expanded. */
  readonly maxRootFields: number;
  /** Persons the operation could reach: personnummer asked for, times aliases, plus households. */
  readonly maxPersons: number;
  /** Weighted field count: each field 1, a list field's selection times the list's assumed size. */
  readonly maxCost: number;
  /** Assumed size of a household list when counting persons and cost. */
  readonly householdSize: number;
  /** Assumed size of any other list whose length the operation does not state. */
  readonly listSize: number;
}

export interface TokenBucketLimit {
  /** Requests that may come at once (bucket size). */
  readonly burst: number;
  /** Requests per second the bucket refills. */
  readonly perSecond: number;
}

export interface RateLimits {
  readonly agency: TokenBucketLimit;
  readonly official: TokenBucketLimit;
  /** Per-agency replacements of the agency bucket (e.g. a large agency with a higher quota). */
  readonly agencyOverrides: ReadonlyMap<string, TokenBucketLimit>;
}

export interface SubgraphFaultLimits {
  /** Per-subgraph timeout, falling back to SUBGRAPH_TIMEOUT_MS. */
  readonly timeoutsMs: ReadonlyMap<string, number>;
  /** Consecutive failed calls that open a subgraph's circuit. */
  readonly breakerFailures: number;
  /** How long an open circuit refuses calls before one trial call is let through. */
  readonly breakerResetMs: number;
}

/** Abuse resistance, fault tolerance and operability settings of the gateway. */
export interface LimitsConfig {
  readonly operation: OperationLimits;
  /** null: RATE_LIMIT_ENABLED=false. */
  readonly rateLimits: RateLimits | null;
  /** Shared rate-limit buckets and replay cache for several replicas; null: in-process. */
  readonly redisUrl: string | null;
  /** Prefix of every Redis key, so several exchanges (or test runs) can share one Redis. */
  readonly redisPrefix: string;
  readonly subgraphs: SubgraphFaultLimits;
  /** /readyz fails when a certificate of the gateway expires within this many days. */
  readonly certMinValidDays: number;
  /** A warning is logged when a certificate expires within this many days. */
  readonly certWarnDays: number;
  /** How long SIGTERM waits for in-flight requests before closing connections. */
  readonly shutdownGraceMs: number;
  /** Timeouts for slow clients and caps on open connections of the HTTPS listener. */
  readonly listener: ListenerLimits;
}

const SUBGRAPH_NAME = /^[a-z][a-z0-9-]{0,63}$/;
const AGENCY_ID = /^[a-z][a-z0-9-]{0,63}$/;

function parseTimeouts(raw: string | undefined): Map<string, number> {
  const map = new Map<string, number>();
  for (const pair of (raw ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const match = /^([^=]+)=(\d+)$/.exec(pair);
    const name = match?.[1] ?? '';
    const ms = Number(match?.[2]);
    if (!match || !SUBGRAPH_NAME.test(name) || !Number.isSafeInteger(ms) || ms < 1) {
      throw new ConfigError([`SUBGRAPH_TIMEOUTS: expected subgraph=milliseconds pairs separated by commas (e.g. csn=2000), milliseconds a whole number above 0; "${pair}" is not one`]);
    }
    map.set(name, ms);
  }
  return map;
}

function parseBucket(variable: string, raw: string): TokenBucketLimit {
  const match = /^(\d+)\/(\d+(?:\.\d+)?)$/.exec(raw);
  const burst = Number(match?.[1]);
  const perSecond = Number(match?.[2]);
  if (!match || !Number.isSafeInteger(burst) || burst < 1 || !(perSecond > 0)) {
    throw new ConfigError([`${variable}: expected burst/perSecond, e.g. 50/20 (a whole burst above 0, a rate above 0); got ${JSON.stringify(raw.slice(0, 80))}`]);
  }
  return { burst, perSecond };
}

function parseOverrides(raw: string | undefined): Map<string, TokenBucketLimit> {
  const map = new Map<string, TokenBucketLimit>();
  for (const pair of (raw ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const eq = pair.indexOf('=');
    const agency = pair.slice(0, eq);
    if (eq <= 0 || !AGENCY_ID.test(agency)) {
      throw new ConfigError([`RATE_LIMIT_AGENCY_OVERRIDES: expected agency=burst/perSecond pairs separated by commas (e.g. skatteverket=200/100); "${pair.slice(0, 80)}" is not one`]);
    }
    map.set(agency, parseBucket(`RATE_LIMIT_AGENCY_OVERRIDES (${agency})`, pair.slice(eq + 1)));
  }
  return map;
}

/**
 * Reads and validates the limits. The defaults are safe for a production exchange: generous for
 * the case-handling queries partners make (one person, a household, a few dozen persons in a
 * batch) and far below what would let one caller exhaust an agency or the log.
 */
export function loadLimitsConfig(env: NodeJS.ProcessEnv = process.env): LimitsConfig {
  const raw = parseEnv(
    {
      LIMIT_DOCUMENT_TOKENS: envField.positiveInt(5000),
      LIMIT_DEPTH: envField.positiveInt(10),
      LIMIT_ALIASES: envField.positiveInt(30),
      LIMIT_ROOT_FIELDS: envField.positiveInt(10),
      LIMIT_PERSONS: envField.positiveInt(1000),
      LIMIT_COST: envField.positiveInt(50_000),
      LIMIT_HOUSEHOLD_SIZE: envField.positiveInt(8),
      LIMIT_LIST_SIZE: envField.positiveInt(10),
      RATE_LIMIT_ENABLED: envField.boolean(true),
      RATE_LIMIT_AGENCY: envField.string('500/200'),
      RATE_LIMIT_OFFICIAL: envField.string('100/20'),
      RATE_LIMIT_AGENCY_OVERRIDES: envField.optionalString(),
      REDIS_URL: envField.optionalString().refine((v) => v === undefined || /^rediss?:\/\//.test(v), 'expected a redis:// or rediss:// URL'),
      REDIS_PREFIX: z
        .string()
        .regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/, 'expected 1-64 characters A-Z a-z 0-9 . _ : -')
        .default('exchange'),
      SUBGRAPH_TIMEOUTS: envField.optionalString(),
      SUBGRAPH_BREAKER_FAILURES: envField.positiveInt(5),
      SUBGRAPH_BREAKER_RESET_MS: envField.positiveInt(10_000),
      CERT_MIN_VALID_DAYS: z
        .string()
        .default('7')
        .transform((v) => Number(v))
        .pipe(z.number({ error: 'expected a number' }).int('expected a whole number of days').min(0, 'expected 0 or more days')),
      CERT_WARN_DAYS: envField.positiveInt(30),
      SHUTDOWN_GRACE_MS: envField.positiveInt(25_000),
    },
    env,
  );
  const problems: string[] = [];
  if (raw.LIMIT_ROOT_FIELDS > raw.LIMIT_COST) problems.push(`LIMIT_ROOT_FIELDS: ${raw.LIMIT_ROOT_FIELDS} root fields could never run under LIMIT_COST ${raw.LIMIT_COST}`);
  if (raw.CERT_WARN_DAYS < raw.CERT_MIN_VALID_DAYS)
    problems.push(`CERT_WARN_DAYS: ${raw.CERT_WARN_DAYS} must be at least CERT_MIN_VALID_DAYS (${raw.CERT_MIN_VALID_DAYS}), or the warning would come after readiness is lost`);
  if (problems.length > 0) throw new ConfigError(problems);
  const agency = parseBucket('RATE_LIMIT_AGENCY', raw.RATE_LIMIT_AGENCY);
  const official = parseBucket('RATE_LIMIT_OFFICIAL', raw.RATE_LIMIT_OFFICIAL);
  return {
    operation: {
      maxTokens: raw.LIMIT_DOCUMENT_TOKENS,
      maxDepth: raw.LIMIT_DEPTH,
      maxAliases: raw.LIMIT_ALIASES,
      maxRootFields: raw.LIMIT_ROOT_FIELDS,
      maxPersons: raw.LIMIT_PERSONS,
      maxCost: raw.LIMIT_COST,
      householdSize: raw.LIMIT_HOUSEHOLD_SIZE,
      listSize: raw.LIMIT_LIST_SIZE,
    },
    rateLimits: raw.RATE_LIMIT_ENABLED ? { agency, official, agencyOverrides: parseOverrides(raw.RATE_LIMIT_AGENCY_OVERRIDES) } : null,
    redisUrl: raw.REDIS_URL ?? null,
    redisPrefix: raw.REDIS_PREFIX,
    subgraphs: {
      timeoutsMs: parseTimeouts(raw.SUBGRAPH_TIMEOUTS),
      breakerFailures: raw.SUBGRAPH_BREAKER_FAILURES,
      breakerResetMs: raw.SUBGRAPH_BREAKER_RESET_MS,
    },
    certMinValidDays: raw.CERT_MIN_VALID_DAYS,
    certWarnDays: raw.CERT_WARN_DAYS,
    shutdownGraceMs: raw.SHUTDOWN_GRACE_MS,
    listener: loadListenerLimits(env),
  };
}
