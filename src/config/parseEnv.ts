import { z } from 'zod';

export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/**
 * Validates environment variables against a zod object whose keys are the variable names, so
 * every message names the variable to fix.
 */
export function parseEnv<T extends z.ZodRawShape>(shape: T, env: NodeJS.ProcessEnv = process.env): z.infer<z.ZodObject<T>> {
  const result = z.object(shape).safeParse(env);
  if (result.success) return result.data;
  throw new ConfigError(
    result.error.issues.map((issue) => {
      const name = issue.path.join('.');
      const raw = env[name];
      return `${name}: ${issue.message}${raw === undefined ? '' : ` (got ${JSON.stringify(raw.length > 80 ? `${raw.slice(0, 80)}…` : raw)})`}`;
    }),
  );
}

/** Reusable field parsers: strings from the environment with safe defaults. */
export const envField = {
  port: (fallback: number) =>
    z
      .string()
      .default(String(fallback))
      .transform((v) => Number(v))
      .pipe(z.number({ error: 'expected a port number' }).int('expected a whole port number').min(0).max(65535, 'expected a port 0..65535')),
  positiveInt: (fallback: number) =>
    z
      .string()
      .default(String(fallback))
      .transform((v) => Number(v))
      .pipe(z.number({ error: 'expected a number' }).int('expected a whole number').positive('expected a number above 0')),
  string: (fallback: string) => z.string().min(1, 'must not be empty').default(fallback),
  optionalString: () => z.string().min(1, 'must not be empty when set').optional(),
  enumOf: <const V extends readonly [string, ...string[]]>(values: V, fallback: V[number]) => z.enum(values, { error: `expected one of ${values.join(', ')}` }).default(fallback as never),
  boolean: (fallback: boolean) =>
    z
      .enum(['true', 'false', '1', '0'], { error: 'expected true or false' })
      .default(fallback ? 'true' : 'false')
      .transform((v) => v === 'true' || v === '1'),
};
