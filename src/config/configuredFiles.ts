import { statSync } from 'node:fs';
import { ConfigError } from './parseEnv.js';

/**
 * A file or directory the configuration points at, with the variable that says so. Start-up
 * checks them all at once, before reading any, so a wrong path is reported as the variable to
 * fix (AGREEMENTS_PATH=/nope names AGREEMENTS_PATH and /nope), never as a bare ENOENT from
 * whichever module happened to open it first.
 */
export interface ConfiguredFile {
  readonly variable: string;
  readonly path: string;
  readonly kind: 'file' | 'directory';
  /** Set when the variable was not given: the path is its default, derived from this. */
  readonly defaultFrom?: string;
  /** What makes the default exist in development (e.g. `npm run certs`). */
  readonly createdBy?: string;
}

function problemOf(file: ConfiguredFile): string | undefined {
  let isDirectory: boolean;
  try {
    isDirectory = statSync(file.path).isDirectory();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const what = code === 'ENOENT' ? 'does not exist' : `cannot be read (${code ?? 'error'})`;
    if (file.defaultFrom === undefined) return `${file.variable}: ${file.path} ${what}${file.createdBy ? ` (\`${file.createdBy}\` creates it for development)` : ''}`;
    return `${file.variable}: ${file.path} ${what} (the default, from ${file.defaultFrom}; set ${file.variable}${file.createdBy ? `, or run \`${file.createdBy}\` for development` : ''})`;
  }
  if (file.kind === 'directory' && !isDirectory) return `${file.variable}: ${file.path} is not a directory`;
  if (file.kind === 'file' && isDirectory) return `${file.variable}: ${file.path} is a directory, not a file`;
  return undefined;
}

/** Throws one ConfigError naming every variable whose path is missing or of the wrong kind. */
export function requireConfiguredFiles(...groups: ReadonlyArray<readonly ConfiguredFile[] | undefined>): void {
  const problems = groups.flatMap((group) => group ?? []).flatMap((file) => problemOf(file) ?? []);
  if (problems.length > 0) throw new ConfigError(problems);
}
