import { createHash, randomBytes } from 'node:crypto';
import { exportJWK, generateKeyPair, calculateJwkThumbprint, type JWK } from 'jose';
import { vi } from 'vitest';
import type { AccessLogEntry, UnchainedEntry } from '../../src/audit/entry.js';
import type { CheckpointSigner } from '../../src/audit/checkpoint.js';
import { parseSubjectKeys, type SubjectKeys } from '../../src/audit/subjectProtection.js';
import type { AccessLogStore } from '../../src/audit/store/AccessLogStore.js';
import { makePersonnummer } from '../../src/personnummer/index.js';

export interface TestKeys {
  readonly subjectKeys: SubjectKeys;
  readonly rawSubjectKeys: { subjectEncryptionKey: string; subjectHmacKey: string };
  readonly signer: CheckpointSigner;
  readonly privateJwk: JWK;
  readonly publicJwk: JWK;
}

export async function generateTestKeys(): Promise<TestKeys> {
  const rawSubjectKeys = { subjectEncryptionKey: randomBytes(32).toString('base64'), subjectHmacKey: randomBytes(32).toString('base64') };
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  const publicJwk = await exportJWK(publicKey);
  const privateJwk = await exportJWK(privateKey);
  const kid = await calculateJwkThumbprint(publicJwk);
  return {
    subjectKeys: parseSubjectKeys(rawSubjectKeys),
    rawSubjectKeys,
    signer: { privateKey, kid },
    privateJwk: { ...privateJwk, kid },
    publicJwk: { ...publicJwk, kid, alg: 'ES256' },
  };
}

export const SUBJECTS = [makePersonnummer('1985-03-14', 123), makePersonnummer('1990-11-02', 456), makePersonnummer('1972-07-30', 789)] as const;

export const DOCUMENT_HASH = createHash('sha256').update('query Person { person { income } }').digest('hex');

let requestCounter = 0;

export function makeEntry(overrides: Partial<AccessLogEntry> = {}): AccessLogEntry {
  requestCounter += 1;
  return {
    time: '2025-01-15T10:00:00.000Z',
    requestId: `req-${requestCounter}`,
    clientAgency: { organisationNumber: '202100-5521', id: 'forsakringskassan' },
    official: 'official-1',
    purpose: 'CASE_HANDLING',
    legalBasis: 'SFS 2001:454 2 kap. 1 §',
    processingRegisterRef: { recordId: 'FK-REG-17', version: '3' },
    caseId: 'case-1',
    subject: SUBJECTS[0],
    field: 'Person.income',
    owningAgency: 'skatteverket',
    outcome: 'released',
    outcomeCode: null,
    operationName: 'PersonIncome',
    documentHash: DOCUMENT_HASH,
    ...overrides,
  };
}

/** Counts transactions by wrapping the store: the group-commit test must not depend on timing. */
export function countingStore(store: AccessLogStore): { store: AccessLogStore; appends: () => number } {
  let appends = 0;
  const wrapped = new Proxy(store, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver) as unknown;
      if (property === 'append' && typeof value === 'function') {
        return (...args: unknown[]) => {
          appends += 1;
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      }
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
  return { store: wrapped, appends: () => appends };
}

/**
 * A store whose appends can be held back until released, then applied for real: a commit that
 * outlives its timeout. `appendStarted()` resolves once the next append has reached the store
 * (held or not), so a test can act on a commit that is known to be in flight.
 */
export function delayedStore(store: AccessLogStore): { store: AccessLogStore; hold: () => void; release: () => Promise<void>; appendStarted: () => Promise<void> } {
  let held = false;
  let waiting: Array<() => Promise<void>> = [];
  const started: Array<() => void> = [];
  const wrapped = new Proxy(store, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver) as unknown;
      if (property === 'append' && typeof value === 'function') {
        return (...args: unknown[]) => {
          for (const wake of started.splice(0)) wake();
          const run = () => (value as (...a: unknown[]) => Promise<void>).apply(target, args);
          if (!held) return run();
          return new Promise<void>((resolve, reject) => waiting.push(() => run().then(resolve, reject)));
        };
      }
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
  return {
    store: wrapped,
    hold: () => {
      held = true;
    },
    release: async () => {
      held = false;
      const runs = waiting;
      waiting = [];
      await Promise.allSettled(runs.map((run) => run()));
    },
    appendStarted: () => new Promise<void>((resolve) => started.push(resolve)),
  };
}

/**
 * Calls `start` with the commit bound on a fake clock, waits until the commit has reached the
 * store (`reached`), then moves that clock past the bound: the bound expires because the test
 * says so, never because a busy machine happened to be slow. Only setTimeout is faked, and only
 * for the commit started here; every other commit of the test runs on the real clock with a
 * bound no machine comes near.
 */
export async function expireCommitBound<T>(boundMs: number, reached: () => Promise<void>, start: () => Promise<T>): Promise<PromiseSettledResult<T>> {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
  let outcome: Promise<PromiseSettledResult<T>>;
  try {
    const inStore = reached();
    // Settled from the start, so a failure elsewhere in the test cannot leave an unhandled rejection behind.
    outcome = start().then(
      (value): PromiseSettledResult<T> => ({ status: 'fulfilled', value }),
      (reason: unknown): PromiseSettledResult<T> => ({ status: 'rejected', reason }),
    );
    await inStore;
    vi.advanceTimersByTime(boundMs);
  } finally {
    vi.useRealTimers();
  }
  return outcome;
}

export function sortedByOrder<T extends { time: string; chainId: string; seq: number }>(rows: readonly T[]): T[] {
  return [...rows].sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : a.chainId < b.chainId ? -1 : a.chainId > b.chainId ? 1 : a.seq - b.seq));
}

/**
 * Flattens an entry, given the protected subject: the flat form draftRecords (and the migration)
 * takes, and the reference the gateway's own path (draftEntries, straight from the entries) is
 * held equal to byte for byte in recordDrafts.test.ts.
 */
export function toUnchainedEntry(entry: AccessLogEntry, protectedSubject: { readonly subjectEnc: string; readonly subjectHmac: string } | null): UnchainedEntry {
  return {
    kind: entry.kind ?? 'access',
    time: entry.time,
    requestId: entry.requestId,
    clientAgencyOrgNumber: entry.clientAgency.organisationNumber,
    clientAgencyId: entry.clientAgency.id,
    official: entry.official,
    purpose: entry.purpose,
    legalBasis: entry.legalBasis,
    processingRegisterRecordId: entry.processingRegisterRef.recordId,
    processingRegisterVersion: entry.processingRegisterRef.version,
    caseId: entry.caseId,
    subjectEnc: protectedSubject?.subjectEnc ?? null,
    subjectHmac: protectedSubject?.subjectHmac ?? null,
    field: entry.field,
    owningAgency: entry.owningAgency,
    outcome: entry.outcome,
    outcomeCode: entry.outcomeCode,
    operationName: entry.operationName,
    documentHash: entry.documentHash,
  };
}
