import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { AccessLog } from '../../src/audit/accessLog.js';
import type { AccessLogStore } from '../../src/audit/store/AccessLogStore.js';
import { generateSeed, noteSigner, SIG_COSIGNATURE_V1, type NoteSigner, type NoteVerifier } from '../../src/transparency/note.js';
import { Witnessing, type WitnessingEvent } from '../../src/audit/witnessing.js';
import type { TestKeys } from './helpers.js';
import { listen, witnessServer } from '../../src/witness/server.js';
import { Witness } from '../../src/witness/witness.js';

export interface RunningWitness {
  readonly url: string;
  readonly key: NoteSigner;
  readonly witness: Witness;
}

/** Real witnesses on loopback, each with its own key and state file; stop() ends them all. */
export function witnessPool(): { start(name: string, logs: readonly NoteVerifier[], key?: NoteSigner): Promise<RunningWitness>; stop(): Promise<void> } {
  const dir = mkdtempSync(path.join(tmpdir(), 'witnesses-'));
  const servers: Server[] = [];
  const witnesses: Witness[] = [];
  let count = 0;
  return {
    async start(name, logs, key = noteSigner(name, SIG_COSIGNATURE_V1, generateSeed())) {
      const witness = new Witness(key, logs, path.join(dir, `witness-${(count += 1)}.db`));
      const server = witnessServer(witness);
      witnesses.push(witness);
      servers.push(server);
      const address = await listen(server, 0, '127.0.0.1');
      return { url: `http://127.0.0.1:${address.port}`, key, witness };
    },
    async stop() {
      for (const server of servers.splice(0)) await new Promise((resolve) => server.close(resolve));
      for (const witness of witnesses.splice(0)) witness.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A chain (replica-a unless named) on `store` with its tree heads sent to `witnesses`, as the gateway wires it. The
 * clock moves a second at each reading, so every commit signs a tree head, as on a busy gateway.
 */
export function witnessedLog(options: {
  readonly store: AccessLogStore;
  readonly keys: TestKeys;
  readonly treeSigner: NoteSigner;
  readonly witnesses: readonly RunningWitness[];
  readonly onWitnessEvent?: (event: WitnessingEvent) => void;
  readonly chainId?: string;
}): { log: AccessLog; witnessing: Witnessing } {
  const witnessing = new Witnessing({
    store: options.store,
    witnesses: options.witnesses.map((w) => ({ url: w.url, verifier: w.key.verifier })),
    ...(options.onWitnessEvent ? { onEvent: options.onWitnessEvent } : {}),
  });
  let clock = Date.parse('2026-11-02T09:00:00.000Z');
  const log = new AccessLog({
    store: options.store,
    chainId: options.chainId ?? 'replica-a',
    subjectKeys: options.keys.subjectKeys,
    signer: options.keys.signer,
    treeSigner: options.treeSigner,
    treeHeadIntervalMs: 1000,
    now: () => new Date((clock += 1000)),
    onEvent: (event) => {
      if (event.type === 'tree-head') witnessing.submit(event.head);
    },
  });
  return { log, witnessing };
}
