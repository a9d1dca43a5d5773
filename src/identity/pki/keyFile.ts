import { readFileSync } from 'node:fs';
import type { z } from 'zod';
import { ConfigError } from '../../config/parseEnv.js';

/**
 * Reads a JSON key file named by a variable (AUDIT_KEYS_PATH, GATEWAY_SIGNING_KEY_PATH). A problem
 * names the variable and the file, never a key's bytes, so the message can go to a log.
 */
export function readJsonKeyFile(variable: string, file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ConfigError([`${variable}: cannot read ${file} (${code ?? 'error'}); run \`npm run certs\` for development keys`]);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new ConfigError([`${variable}: ${file} is not valid JSON`]);
  }
}

/** One problem per schema issue, each naming the variable, the file and the JSON member. */
export function keyFileProblems(variable: string, file: string, error: z.ZodError): ConfigError {
  return new ConfigError(error.issues.map((issue) => `${variable}: ${file}: ${issue.path.join('.') || '(root)'}: ${issue.message}`));
}
