import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

/** One import as written in a source file: the importing file and where it points. */
export interface FileImport {
  /** Repository-relative, forward slashes: `src/audit-api/auditRoutes.ts`. */
  readonly from: string;
  /** Repository-relative target file for a relative import, the specifier as written for a package. */
  readonly to: string;
  /** A package (`@apollo/server`), not a file of ours. */
  readonly external: boolean;
}

/** Built packages and installed dependencies are not sources: only what we write is layered. */
const SKIPPED_DIRECTORIES = new Set(['node_modules', 'dist']);

function sourceFiles(root: string, directory: string): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(path.join(root, directory), { withFileTypes: true })) {
    const relative = `${directory}/${entry.name}`;
    if (entry.isDirectory()) {
      if (!SKIPPED_DIRECTORIES.has(entry.name)) found.push(...sourceFiles(root, relative));
    } else if (/\.(ts|mts)$/.test(entry.name) && !entry.name.endsWith('.d.ts')) {
      found.push(relative);
    }
  }
  return found;
}

/**
 * Our sources import with the `.js` suffix NodeNext requires; the file on disk is the `.ts` one.
 * A specifier that leaves the scanned directories (a test helper, a JSON file) is still returned,
 * so the caller sees every edge and decides what counts.
 */
function resolveRelative(from: string, specifier: string): string {
  const joined = path.posix.normalize(path.posix.join(path.posix.dirname(from), specifier));
  return joined.replace(/\.js$/, '.ts').replace(/\.mjs$/, '.mts');
}

/**
 * Every import of the given directories, read by TypeScript's own scanner (`ts.preProcessFile`):
 * static imports, `import type`, `export … from` and `import('…')` with a literal specifier. A
 * dynamic import of a computed path (the agency modules loaded by convention) is not an edge, as
 * it is not one for the type checker either.
 */
export function readImportGraph(root: string, directories: readonly string[]): FileImport[] {
  const imports: FileImport[] = [];
  for (const directory of directories) {
    for (const file of sourceFiles(root, directory)) {
      const info = ts.preProcessFile(readFileSync(path.join(root, file), 'utf8'), true, true);
      for (const { fileName: specifier } of info.importedFiles) {
        const relative = specifier.startsWith('./') || specifier.startsWith('../');
        imports.push({ from: file, to: relative ? resolveRelative(file, specifier) : specifier, external: !relative });
      }
    }
  }
  return imports;
}
