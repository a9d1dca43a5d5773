import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { generateSeed, noteSigner, SIG_COSIGNATURE_V1, type NoteSigner, type NoteVerifier } from '../../src/audit/transparency/note.js';
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
