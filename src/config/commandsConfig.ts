import { envField, parseEnv } from './parseEnv.js';
import { DEFAULT_CERTS_DIR, DEFAULT_DATA_DIR, resolveFromRoot } from './paths.js';

/**
 * The development commands' own variables: `npm start` and `npm run soak` read them once here, as
 * the services read theirs through src/config/index.ts, so every variable the repository knows is
 * declared under src/config/.
 */

export interface StartConfig {
  readonly dataDir: string;
  readonly certsDir: string;
  readonly populationSize: number;
  readonly populationSeed: number;
  readonly gatewayPort: number;
}

export function loadStartConfig(env: NodeJS.ProcessEnv = process.env): StartConfig {
  const raw = parseEnv(
    {
      DATA_DIR: envField.string(DEFAULT_DATA_DIR),
      CERTS_DIR: envField.string(DEFAULT_CERTS_DIR),
      POPULATION_SIZE: envField.positiveInt(10_000),
      POPULATION_SEED: envField.positiveInt(1),
      GATEWAY_PORT: envField.port(4000),
    },
    env,
  );
  return {
    dataDir: resolveFromRoot(raw.DATA_DIR),
    certsDir: resolveFromRoot(raw.CERTS_DIR),
    populationSize: raw.POPULATION_SIZE,
    populationSeed: raw.POPULATION_SEED,
    gatewayPort: raw.GATEWAY_PORT,
  };
}

export interface SoakConfig {
  readonly seconds: number;
  readonly concurrency: number;
  readonly persons: number;
  /** Keep the soak's working directory for a look afterwards. */
  readonly keepDir: boolean;
}

export function loadSoakConfig(env: NodeJS.ProcessEnv = process.env): SoakConfig {
  const raw = parseEnv(
    {
      SOAK_SECONDS: envField.positiveInt(120),
      SOAK_CONCURRENCY: envField.positiveInt(6),
      SOAK_PERSONS: envField.positiveInt(3000),
      SOAK_KEEP_DIR: envField.boolean(false),
    },
    env,
  );
  return { seconds: raw.SOAK_SECONDS, concurrency: raw.SOAK_CONCURRENCY, persons: raw.SOAK_PERSONS, keepDir: raw.SOAK_KEEP_DIR };
}
