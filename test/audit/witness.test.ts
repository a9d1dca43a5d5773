import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AccessLog } from '../../src/audit/accessLog.js';
import { treeOrigin } from '../../src/audit/logTree.js';
import { SqliteAccessLogStore } from '../../src/audit/store/sqliteStore.js';
import { formatCheckpoint } from '../../src/transparency/checkpoint.js';
import { appendLeaves, consistencyProofRanges, foldRange, hashRanges, leafHash, nodeKey } from '../../src/transparency/merkle.js';
import { generateSeed, noteSigner, openNote, parseSignatureLines, SIG_COSIGNATURE_V1, SIG_ED25519, signNote, type NoteSigner } from '../../src/transparency/note.js';
import { Witnessing, type WitnessingEvent } from '../../src/audit/witnessing.js';
import { parseWitnessList, loadTransparencyConfig, loadWitnessServiceConfig } from '../../src/config/transparencyConfig.js';
import { ConfigError } from '../../src/config/parseEnv.js';
import { listen, witnessServer } from '../../src/witness/server.js';
import { Witness } from '../../src/witness/witness.js';
import { makeEntry } from './helpers.js';
import { witnessedLog, witnessFixture, witnessTarget } from './witnessHarness.js';

const LOG_NAME = 'access-log.test.example';

/** A log as a test builds it: leaves in memory, every node kept, checkpoints signed with the log key. */
class TestLog {
  private leaves: Buffer[] = [];
  constructor(
    readonly origin: string,
    private readonly key: NoteSigner,
  ) {}
  add(...inputs: string[]): this {
    this.leaves.push(...inputs.map((input) => leafHash(input)));
    return this;
  }
  private nodes(): Map<string, Buffer> {
    const nodes = new Map<string, Buffer>();
    for (const node of appendLeaves([], 0, this.leaves).nodes) nodes.set(nodeKey(node), node.hash);
    return nodes;
  }
  get size(): number {
    return this.leaves.length;
  }
  checkpoint(): string {
    const root = this.size === 0 ? foldRange([]) : hashRanges([[0, this.size]], this.nodes())[0]!;
    return signNote(formatCheckpoint({ origin: this.origin, size: this.size, rootHash: root }), [this.key]);
  }
  proof(oldSize: number): Buffer[] {
    return hashRanges(consistencyProofRanges(oldSize, this.size), this.nodes());
  }
  /** The same log with leaf `index` replaced: a forked history. */
  fork(index: number): TestLog {
    const forked = new TestLog(this.origin, this.key);
    forked.leaves = this.leaves.map((leaf, i) => (i === index ? leafHash(`forged-${i}`) : leaf));
    return forked;
  }
}

const body = (oldSize: number, proof: readonly Buffer[], checkpoint: string) => `old ${oldSize}\n${proof.map((p) => `${p.toString('base64')}\n`).join('')}\n${checkpoint}`;

describe('witness (C2SP tlog-witness add-checkpoint)', () => {
  let dir: string;
  let logKey: NoteSigner;
  let witnessKey: NoteSigner;
  let witness: Witness;
  let server: Server;
  let url: string;

  const post = async (text: string) => {
    const response = await fetch(`${url}/add-checkpoint`, { method: 'POST', body: text });
    return { status: response.status, type: response.headers.get('content-type'), text: await response.text() };
  };

  beforeEach(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'witness-'));
    logKey = noteSigner(LOG_NAME, SIG_ED25519, generateSeed());
    witnessKey = noteSigner('witness.imy.test/w1', SIG_COSIGNATURE_V1, generateSeed());
    witness = new Witness(witnessKey, [logKey.verifier], path.join(dir, 'state.db'));
    server = witnessServer(witness);
    const address = await listen(server, 0, '127.0.0.1');
    url = `http://127.0.0.1:${address.port}`;
  });
  afterEach(async () => {
    await new Promise((resolve) => server.close(resolve));
    witness.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('cosigns a first checkpoint and then each consistent extension, with a cosignature/v1 the log key plus witness key verify', async () => {
    const log = new TestLog(`${LOG_NAME}/replica-a`, logKey).add('a', 'b', 'c');
    const first = await post(body(0, [], log.checkpoint()));
    expect(first.status).toBe(200);
    const [line] = parseSignatureLines(first.text);
    const cosigned = log.checkpoint() + first.text;
    expect(openNote(cosigned, [logKey.verifier, witnessKey.verifier]).verifiedBy.map((v) => v.name)).toEqual([LOG_NAME, 'witness.imy.test/w1']);
    expect(line!.name).toBe('witness.imy.test/w1');
    log.add('d', 'e', 'f', 'g');
    expect((await post(body(3, log.proof(3), log.checkpoint()))).status).toBe(200);
    expect(witness.latestSize(`${LOG_NAME}/replica-a`)).toBe(7);
  });

  it('answers a wrong old size with 409 and its own size as text/x.tlog.size', async () => {
    const log = new TestLog(`${LOG_NAME}/replica-a`, logKey).add('a', 'b', 'c', 'd');
    await post(body(0, [], log.checkpoint()));
    log.add('e');
    const answer = await post(body(0, [], log.checkpoint()));
    expect(answer).toMatchObject({ status: 409, type: 'text/x.tlog.size', text: '4\n' });
  });

  it('refuses a forked history with 422 and never cosigns it', async () => {
    const log = new TestLog(`${LOG_NAME}/replica-a`, logKey).add('a', 'b', 'c', 'd', 'e');
    await post(body(0, [], log.checkpoint()));
    const forked = log.fork(2).add('f', 'g');
    expect((await post(body(5, forked.proof(5), forked.checkpoint()))).status).toBe(422);
    expect(witness.latestSize(`${LOG_NAME}/replica-a`)).toBe(5);
  });

  it('refuses a rolled-back log: an old size above the checkpoint is 400, a different root at the same size 409', async () => {
    const log = new TestLog(`${LOG_NAME}/replica-a`, logKey).add('a', 'b', 'c', 'd', 'e');
    await post(body(0, [], log.checkpoint()));
    const shorter = new TestLog(`${LOG_NAME}/replica-a`, logKey).add('a', 'b', 'c');
    expect((await post(body(5, [], shorter.checkpoint()))).status).toBe(400);
    expect((await post(body(5, [], log.fork(1).checkpoint()))).status).toBe(409);
    expect((await post(body(5, [], log.checkpoint()))).status).toBe(200);
  });

  it('refuses an unknown origin with 404 and a checkpoint the log did not sign with 403', async () => {
    const stranger = new TestLog('other.example/log', logKey).add('a');
    expect((await post(body(0, [], stranger.checkpoint()))).status).toBe(404);
    const impostor = new TestLog(`${LOG_NAME}/replica-a`, noteSigner(LOG_NAME, SIG_ED25519, generateSeed())).add('a');
    expect((await post(body(0, [], impostor.checkpoint()))).status).toBe(403);
    expect((await post('old x\n\n')).status).toBe(400);
  });

  it('remembers the latest size across a restart', async () => {
    const log = new TestLog(`${LOG_NAME}/replica-a`, logKey).add('a', 'b');
    await post(body(0, [], log.checkpoint()));
    witness.close();
    const again = new Witness(witnessKey, [logKey.verifier], path.join(dir, 'state.db'));
    try {
      expect(again.latestSize(`${LOG_NAME}/replica-a`)).toBe(2);
      expect(again.addCheckpoint(body(0, [], log.add('c').checkpoint()))).toMatchObject({ status: 409, body: '2\n' });
    } finally {
      again.close();
    }
  });
});

describe('the gateway sends each signed tree head to its witnesses', () => {
  const fx = witnessFixture('witnessing-');

  const startWitness = (name: string, logKey: NoteSigner) => fx.pool.start(name, [logKey.verifier]);

  it('stores the cosignatures of every witness with the tree head, after consistency proofs from their last size', async () => {
    const treeSigner = noteSigner(LOG_NAME, SIG_ED25519, generateSeed());
    const w1 = await startWitness('witness.imy.test/w1', treeSigner);
    const w2 = await startWitness('witness.riksrevisionen.test/w2', treeSigner);
    const store = await SqliteAccessLogStore.open({ file: path.join(fx.dir, 'log.db') });
    const events: WitnessingEvent[] = [];
    const { log, witnessing } = witnessedLog({ store, keys: fx.keys, treeSigner, witnesses: [w1, w2], onWitnessEvent: (event) => events.push(event) });
    for (let i = 0; i < 3; i++) {
      await log.record([makeEntry(), makeEntry()]);
      await witnessing.settled();
    }
    await log.close();
    await witnessing.close();
    const heads = await store.listTreeHeads('replica-a', 10);
    expect(heads.map((h) => h.size)).toEqual([6, 4, 2]);
    for (const head of heads) {
      const opened = openNote(head.note, [treeSigner.verifier, w1.key.verifier, w2.key.verifier]);
      expect(opened.verifiedBy.map((v) => v.name)).toEqual([LOG_NAME, 'witness.imy.test/w1', 'witness.riksrevisionen.test/w2']);
    }
    expect(events.filter((e) => e.type === 'witness-refused')).toEqual([]);
    expect(w1.witness.latestSize(treeOrigin(LOG_NAME, 'replica-a'))).toBe(6);
    await store.close();
  });

  it("learns a witness's size from its 409 and proves consistency from there", async () => {
    const treeSigner = noteSigner(LOG_NAME, SIG_ED25519, generateSeed());
    const w1 = await startWitness('witness.imy.test/w1', treeSigner);
    const store = await SqliteAccessLogStore.open({ file: path.join(fx.dir, 'log.db') });
    const first = new AccessLog({ store, chainId: 'replica-a', subjectKeys: fx.keys.subjectKeys, signer: fx.keys.signer, treeSigner, treeHeadIntervalMs: 3_600_000 });
    const earlier = new Witnessing({ store, witnesses: [witnessTarget(w1)] });
    await first.record([makeEntry(), makeEntry(), makeEntry()]);
    await first.close();
    earlier.submit((await store.listTreeHeads('replica-a', 1))[0]!);
    await earlier.close();
    // A restarted gateway knows nothing of the witness: it sends old 0, hears 3, and proves 3 → 5.
    const events: WitnessingEvent[] = [];
    const later = new Witnessing({ store, witnesses: [witnessTarget(w1)], onEvent: (e) => events.push(e) });
    const second = new AccessLog({ store, chainId: 'replica-a', subjectKeys: fx.keys.subjectKeys, signer: fx.keys.signer, treeSigner, treeHeadIntervalMs: 3_600_000 });
    await second.record([makeEntry(), makeEntry()]);
    await second.close();
    later.submit((await store.listTreeHeads('replica-a', 1))[0]!);
    await later.close();
    expect(events).toEqual([{ type: 'cosigned', chainId: 'replica-a', size: 5, witnesses: ['witness.imy.test/w1'], quorumMet: true }]);
    await store.close();
  });
});

describe('transparency configuration', () => {
  const vkey = (type: typeof SIG_ED25519 | typeof SIG_COSIGNATURE_V1) => {
    const signer = noteSigner('witness.imy.test/w1', type, generateSeed());
    return `${signer.name}+${signer.keyId.toString('hex')}+${Buffer.concat([Buffer.from([type]), signer.verifier.publicKey]).toString('base64')}`;
  };

  it('reads witnesses and a quorum, by default all of them', () => {
    const config = loadTransparencyConfig({ AUDIT_WITNESSES: `https://127.0.0.1:7380 ${vkey(SIG_COSIGNATURE_V1)}` });
    expect(config.witnesses.map((w) => w.url)).toEqual(['https://127.0.0.1:7380']);
    expect(config.quorum).toBe(1);
    expect(loadTransparencyConfig({}).quorum).toBe(0);
  });

  it('names the variable when a witness entry, its key type or the quorum is wrong', () => {
    const problems = (env: NodeJS.ProcessEnv) => {
      try {
        loadTransparencyConfig(env);
      } catch (error) {
        expect(error).toBeInstanceOf(ConfigError);
        return (error as ConfigError).problems;
      }
      throw new Error('expected a ConfigError');
    };
    expect(problems({ AUDIT_WITNESSES: 'not-a-url key' })).toEqual([expect.stringMatching(/^AUDIT_WITNESSES: witness 1: expected "URL VKEY/)]);
    expect(problems({ AUDIT_WITNESSES: `https://w ${vkey(SIG_ED25519)}` })).toEqual([expect.stringMatching(/^AUDIT_WITNESSES: witness 1: .*0x04/)]);
    expect(problems({ AUDIT_WITNESSES: `https://w ${vkey(SIG_COSIGNATURE_V1)}`, AUDIT_WITNESS_QUORUM: '2' })).toEqual([expect.stringMatching(/^AUDIT_WITNESS_QUORUM: 2 is more than the 1 witness/)]);
    expect(() => parseWitnessList('X', `https://a ${vkey(SIG_COSIGNATURE_V1)};https://b ${vkey(SIG_COSIGNATURE_V1).replace(/\+[0-9a-f]{8}\+/, '+00000000+')}`)).toThrow(ConfigError);
    expect(() => loadWitnessServiceConfig({ WITNESS_PLAIN_HTTP: 'true', WITNESS_MODE: 'development' })).toThrow(/WITNESS_LOGS: at least one log verifier key/);
  });
});
