import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { z } from 'zod';

/**
 * What the federation's registry files (agencies, officials) share: every problem names the
 * source, the entry and the field, e.g. `agencies.json: agencies[3].organisationNumber: expected
 * NNNNNN-NNNN`, and all problems are reported at once.
 */

/** Every problem of a registry file at once; the message lists them. */
export class RegistryFileError extends Error {
  constructor(
    readonly problems: readonly string[],
    what: string,
  ) {
    super(problems.length === 1 ? (problems[0] ?? '') : `Invalid ${what}:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

/** A missing field says so; a present but wrong one says what was expected. */
export const expected = (what: string) => (issue: { input?: unknown }) => (issue.input === undefined ? 'is required' : `expected ${what}`);

function formatPath(segments: readonly PropertyKey[]): string {
  return segments.reduce<string>((text, segment) => (typeof segment === 'number' ? `${text}[${segment}]` : text ? `${text}.${String(segment)}` : String(segment)), '');
}

export function schemaProblems(error: z.ZodError, source: string): string[] {
  return error.issues.map((issue) => {
    const at = formatPath(issue.path);
    return `${source}: ${at ? `${at}: ` : ''}${issue.message}`;
  });
}

/** `list[i].field: duplicate of list[j].field "value"` for every repeated value of each field. */
export function duplicateProblems<T>(entries: readonly T[], fields: ReadonlyArray<keyof T & string>, list: string, source: string): string[] {
  const problems: string[] = [];
  for (const field of fields) {
    const firstSeen = new Map<unknown, number>();
    entries.forEach((entry, index) => {
      const earlier = firstSeen.get(entry[field]);
      if (earlier === undefined) firstSeen.set(entry[field], index);
      else problems.push(`${source}: ${list}[${index}].${field}: duplicate of ${list}[${earlier}].${field} "${String(entry[field])}"`);
    });
  }
  return problems;
}

function describe(file: string): string {
  const relative = path.relative(process.cwd(), file);
  return relative && !relative.startsWith('..') ? relative : file;
}

/** The parsed JSON of a registry file and how to name it in messages; `fail` makes the error for an unreadable file. */
export function readRegistryJson(file: string, fail: (problems: string[]) => Error): { readonly json: unknown; readonly source: string } {
  const source = describe(file);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw fail([`${source}: cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`]);
  }
  try {
    return { json: JSON.parse(text), source };
  } catch (error) {
    throw fail([`${source}: not valid JSON (${(error as Error).message})`]);
  }
}
