import { hash } from 'node:crypto';
import type { StoredEntry } from './entry.js';
import type { StoredCheckpoint, StoredPurge } from './checkpoint.js';

/**
 * The row-per-entry format the access log was stored in before records (up to 1bbb6b2): one row
 * per entry in access_log_entries, each carrying the SHA-256 of the one before it, and the
 * gateway's JWS checkpoints over those row hashes. Kept only so the migration (migrateFormat.ts)
 * can verify a chain in that format before it moves it: a chain that does not verify is not
 * migrated, since rewriting it into the new format would launder the tampering.
 */

export interface LegacyEntry extends StoredEntry {
  readonly prevHash: string;
}

/** What a store can read of the format it had before records; null where the old tables do not exist. */
export interface LegacyReader {
  /** Chain ids with a head in the old tables, sorted; [] when there are none. */
  chains(): Promise<string[]>;
  head(chainId: string): Promise<{ readonly seq: number; readonly hash: string } | null>;
  /** Rows with seq >= fromSeq in seq order, at most `limit`. */
  rows(chainId: string, fromSeq: number, limit: number): Promise<LegacyEntry[]>;
  checkpoints(chainId: string): Promise<StoredCheckpoint[]>;
  purges(chainId: string): Promise<StoredPurge[]>;
}

/** The old canonical serialisation, exactly as hashChain.ts wrote it then. */
export function legacyEntryHash(row: Omit<LegacyEntry, 'hash'>): string {
  return hash(
    'sha256',
    JSON.stringify([
      'access-log-entry-v1',
      row.chainId,
      row.seq,
      row.prevHash,
      row.kind,
      row.time,
      row.requestId,
      row.clientAgencyOrgNumber,
      row.clientAgencyId,
      row.official,
      row.purpose,
      row.legalBasis,
      row.processingRegisterRecordId,
      row.processingRegisterVersion,
      row.caseId,
      row.subjectEnc,
      row.subjectHmac,
      row.field,
      row.owningAgency,
      row.outcome,
      row.outcomeCode,
      row.operationName,
      row.documentHash,
    ]),
    'hex',
  );
}
