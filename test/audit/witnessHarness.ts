import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { AccessLog } from '../../src/audit/accessLog.js';
import type { AccessLogStore } from '../../src/audit/store/AccessLogStore.js';
import { generateSeed, noteSigner, SIG_COSIGNATURE_V1, type NoteSigner, type NoteVerifier } from '../../src/transparency/note.js';
import { Witnessing, type WitnessingEvent, type WitnessTarget } from '../../src/audit/witnessing.js';
import { afterEach, beforeAll, beforeEach } from 'vitest';
import { generateTestKeys, type TestKeys } from './helpers.js';
import { listen, witnessServer, type WitnessServerOptions } from '../../src/witness/server.js';
import { Witness } from '../../src/witness/witness.js';

export interface RunningWitness {
  readonly url: string;
  readonly key: NoteSigner;
  readonly witness: Witness;
  readonly stateFile: string;
}

export interface WitnessStartOptions extends WitnessServerOptions {
  /** The state file of a witness started before (a restart, e.g. after a key rotation); a fresh one when absent. */
  readonly stateFile?: string;
}

/** Real witnesses on loopback, each with its own key and state file (HTTPS when given `tls`); stop() ends them all. */
export function witnessPool(): {
  start(name: string, logs: readonly NoteVerifier[], key?: NoteSigner, options?: WitnessStartOptions): Promise<RunningWitness>;
  /** Stops one witness (its state file stays, for a restart). */
  stopOne(running: RunningWitness): Promise<void>;
  stop(): Promise<void>;
} {
  const dir = mkdtempSync(path.join(tmpdir(), 'witnesses-'));
  const running = new Map<RunningWitness, Server>();
  let count = 0;
  const end = async (witness: RunningWitness, server: Server) => {
    running.delete(witness);
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    witness.witness.close();
  };
  return {
    async start(name, logs, key = noteSigner(name, SIG_COSIGNATURE_V1, generateSeed()), options = {}) {
      const stateFile = options.stateFile ?? path.join(dir, `witness-${(count += 1)}.db`);
      const witness = new Witness(key, logs, stateFile);
      const server = witnessServer(witness, options);
      const address = await listen(server, 0, '127.0.0.1');
      const started = { url: `${options.tls ? 'https' : 'http'}://127.0.0.1:${address.port}`, key, witness, stateFile };
      running.set(started, server);
      return started;
    },
    async stopOne(witness) {
      const server = running.get(witness);
      if (server) await end(witness, server);
    },
    async stop() {
      for (const [witness, server] of [...running]) await end(witness, server);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A describe block's witness set-up: log keys made once, and per test a fresh directory (named
 * after `prefix`) and a witness pool, both stopped and removed after the test. Read its members
 * inside hooks and tests: they change per test.
 */
export function witnessFixture(prefix: string): { readonly keys: TestKeys; readonly dir: string; readonly pool: ReturnType<typeof witnessPool> } {
  let keys: TestKeys | undefined;
  let dir: string | undefined;
  let pool: ReturnType<typeof witnessPool> | undefined;
  beforeAll(async () => {
    keys = await generateTestKeys();
  });
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), prefix));
    pool = witnessPool();
  });
  afterEach(async () => {
    await pool?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  return {
    get keys() {
      return keys!;
    },
    get dir() {
      return dir!;
    },
    get pool() {
      return pool!;
    },
  };
}

/** A running witness as the gateway's configuration names it. */
export function witnessTarget(witness: RunningWitness, keys: readonly NoteVerifier[] = [witness.key.verifier]): WitnessTarget {
  return { url: witness.url, name: witness.key.name, verifiers: keys };
}

/**
 * A chain (replica-a unless named) on `store` with its tree heads sent to `witnesses`, as the gateway wires it. The
 * clock moves a second at each reading, so every commit signs a tree head, as on a busy gateway.
 */
export function witnessedLog(options: {
  readonly store: AccessLogStore;
  readonly keys: TestKeys;
  readonly treeSigner: NoteSigner;
  /** Running witnesses (their current key), or targets with the keys the gateway is configured with. */
  readonly witnesses: readonly (RunningWitness | WitnessTarget)[];
  readonly onWitnessEvent?: (event: WitnessingEvent) => void;
  readonly chainId?: string;
  readonly quorum?: number;
  readonly ca?: string | Buffer;
}): { log: AccessLog; witnessing: Witnessing } {
  const witnessing = new Witnessing({
    store: options.store,
    witnesses: options.witnesses.map((w) => ('verifiers' in w ? w : witnessTarget(w))),
    ...(options.quorum === undefined ? {} : { quorum: options.quorum }),
    ...(options.ca === undefined ? {} : { ca: options.ca }),
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
