import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { PURPOSES, type Purpose } from '../policy/purposes.js';
import { DOCUMENT_ID_PATTERN, documentId } from './documentId.js';

/**
 * One agency's trusted documents: the operations its systems may run in production, each
 * registered after the purpose check for the purposes listed. The document text is kept next to
 * its hash so a partner can send the hash alone.
 */
export interface TrustedDocumentManifest {
  readonly agency: string;
  readonly documents: readonly TrustedDocument[];
}

export interface TrustedDocument {
  /** `sha256:<hex>` of `document`. */
  readonly id: string;
  readonly operationName: string | null;
  /** The purposes the document passed the purpose check for at registration. */
  readonly purposes: readonly Purpose[];
  /** Normalised document text (see normalizeDocument). */
  readonly document: string;
  /** ISO date of the last registration. */
  readonly registeredOn: string;
}

const manifestSchema = z
  .object({
    agency: z.string().min(1),
    documents: z.array(
      z
        .object({
          id: z.string().regex(DOCUMENT_ID_PATTERN, 'expected sha256:<64 hex digits>'),
          operationName: z.string().min(1).nullable(),
          purposes: z.array(z.enum(PURPOSES)).min(1),
          document: z.string().min(1),
          registeredOn: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'expected a date YYYY-MM-DD'),
        })
        .strict(),
    ),
  })
  .strict();

export class TrustedDocumentsConfigError extends Error {
  override name = 'TrustedDocumentsConfigError';
}

export function manifestPath(dir: string, agency: string): string {
  return path.join(dir, `${agency}.json`);
}

/** Reads and checks one manifest: the file is named after its agency and every id is the hash of its document. */
export function readManifest(file: string): TrustedDocumentManifest {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new TrustedDocumentsConfigError(`${file}: ${(error as Error).message}`);
  }
  const result = manifestSchema.safeParse(json);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    throw new TrustedDocumentsConfigError(`${file}: ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  const manifest = result.data;
  if (path.basename(file) !== `${manifest.agency}.json`) {
    throw new TrustedDocumentsConfigError(`${file}: the manifest of agency ${manifest.agency} must be named ${manifest.agency}.json`);
  }
  manifest.documents.forEach((entry, index) => {
    let actual: string;
    try {
      actual = documentId(entry.document);
    } catch (error) {
      throw new TrustedDocumentsConfigError(`${file}: documents[${index}].document: ${(error as Error).message}`);
    }
    // An id that is not the hash of its text would let an edited document run under a checked one's name.
    if (actual !== entry.id) throw new TrustedDocumentsConfigError(`${file}: documents[${index}].id is not the sha256 of its document (expected ${actual})`);
  });
  return manifest;
}

export function writeManifest(dir: string, manifest: TrustedDocumentManifest): string {
  mkdirSync(dir, { recursive: true });
  const file = manifestPath(dir, manifest.agency);
  const sorted = { agency: manifest.agency, documents: [...manifest.documents].sort((a, b) => (a.operationName ?? '').localeCompare(b.operationName ?? '') || a.id.localeCompare(b.id)) };
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(sorted, null, 2)}\n`);
  renameSync(temporary, file);
  return file;
}

/**
 * Every agency's manifest from one directory, looked up by agency and document id. `reload()`
 * re-reads the directory; an invalid file keeps the previous manifests and throws.
 */
export class TrustedDocuments {
  #byAgency: ReadonlyMap<string, ReadonlyMap<string, TrustedDocument>>;

  constructor(readonly dir: string) {
    this.#byAgency = TrustedDocuments.#read(dir);
  }

  static #read(dir: string): Map<string, Map<string, TrustedDocument>> {
    if (!existsSync(dir)) {
      throw new TrustedDocumentsConfigError(`${dir}: the trusted documents directory does not exist (TRUSTED_DOCUMENTS_DIR)`);
    }
    const byAgency = new Map<string, Map<string, TrustedDocument>>();
    for (const name of readdirSync(dir)
      .filter((n) => n.endsWith('.json'))
      .sort()) {
      const manifest = readManifest(path.join(dir, name));
      byAgency.set(manifest.agency, new Map(manifest.documents.map((d) => [d.id, d])));
    }
    return byAgency;
  }

  reload(): void {
    this.#byAgency = TrustedDocuments.#read(this.dir);
  }

  /** The document registered for the agency under this id, if any. */
  find(agency: string, id: string): TrustedDocument | undefined {
    return this.#byAgency.get(agency)?.get(id);
  }

  /** Counts for the start-up line. */
  summary(): { agencies: number; documents: number } {
    let documents = 0;
    for (const docs of this.#byAgency.values()) documents += docs.size;
    return { agencies: this.#byAgency.size, documents };
  }
}
