import { ConfigError } from '../../src/config/parseEnv.js';

/** The problems a configuration loader reports; fails the test when it reports none or throws something else. */
export function problemsOf(load: () => unknown): readonly string[] {
  try {
    load();
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected a ConfigError');
}
