import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer as createTcpServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Agent } from 'undici';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { certificateAgent, DEV_OPERATOR, get } from '../support/certificateAgent.js';
import { sample } from '../support/prometheusText.js';
import { startStack, type Replica, type Stack } from '../support/stack.js';
import { witnessedLog, witnessPool, type RunningWitness } from '../audit/witnessHarness.js';
import { formatSignerKey, formatVerifierKey, generateSeed, noteSigner, parseSignerKey, SIG_ED25519 } from '../../src/transparency/note.js';
import { SqliteAccessLogStore } from '../../src/audit/store/sqliteStore.js';
import { createLogger } from '../../src/observability/logger.js';
import { GatewayMetrics } from '../../src/observability/metrics.js';
import { witnessObserver } from '../../src/observability/witnessObserver.js';
import { generateTestKeys, makeEntry } from '../audit/helpers.js';

const LOG_NAME = 'access-log.witness-events.test';
const QUERY = `query ($p: Personnummer!) { person(personnummer: $p) { name { givenName } studentAid { grant } } }`;

/** A loopback port nobody listens on: a witness that is down. */
async function closedPort(): Promise<number> {
  const server = createTcpServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('the gateway reports what its witnesses do, in its process log and metrics', () => {
  let stack: Stack;
  let replica: Replica;
  let operator: Agent;
  let dir: string;
  const lines: string[] = [];
  const pool = witnessPool();
  let cosigning: RunningWitness;
  let refusing: RunningWitness;

  beforeAll(async () => {
    stack = await startStack({ persons: 300, logLines: lines });
    dir = mkdtempSync(path.join(tmpdir(), 'witness-events-'));
    const logKeyPath = path.join(dir, 'access-log-note.key');
    writeFileSync(logKeyPath, `${formatSignerKey(LOG_NAME, SIG_ED25519, generateSeed())}\n`, { mode: 0o600 });
    const logKey = parseSignerKey(readFileSync(logKeyPath, 'utf8'));
    // The witnesses serve HTTPS with the certificate `npm run certs` makes (ensureDevFederation, run by the stack).
    const tls = { cert: readFileSync(path.join(stack.certsDir, 'servers', 'witness.crt')), key: readFileSync(path.join(stack.certsDir, 'servers', 'witness.key')) };
    cosigning = await pool.start('witness.imy.test/w1', [logKey.verifier], undefined, { tls });
    // Knows a log of the same name under another key: every checkpoint is "not signed by the log" (403).
    refusing = await pool.start('witness.riksrevisionen.test/w2', [noteSigner(LOG_NAME, SIG_ED25519, generateSeed()).verifier], undefined, { tls });
    const down = noteSigner('witness.down.test/w3', 0x04, generateSeed());
    const witnesses = [
      `${cosigning.url} ${formatVerifierKey(cosigning.key.verifier)}`,
      `${refusing.url} ${formatVerifierKey(refusing.key.verifier)}`,
      `https://127.0.0.1:${await closedPort()} ${formatVerifierKey(down.verifier)}`,
    ];
    replica = await stack.replica({
      AUDIT_TLOG_KEY_PATH: logKeyPath,
      AUDIT_TLOG_NAME: LOG_NAME,
      // Every commit signs a tree head: each query is a round with the witnesses.
      AUDIT_TLOG_INTERVAL_MS: '1',
      AUDIT_WITNESSES: witnesses.join(';'),
      AUDIT_WITNESS_QUORUM: '2',
      AUDIT_WITNESS_CA_PATH: path.join(stack.certsDir, 'ca.crt'),
    });
    operator = certificateAgent(stack.certsDir, 'officials', DEV_OPERATOR);
  });

  afterAll(async () => {
    await operator?.close();
    await stack?.close();
    await pool.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('counts each witness by outcome, gauges the cosigned size and the quorum, and logs each kind of failure once', async () => {
    const subject = stack.sample.withStudentAid;
    const client = stack.client('malmo-stad', { official: 'w-1', purpose: 'CASE_HANDLING', caseId: 'WITNESS-1', subjects: [subject] }, replica.gateway.url);
    for (let i = 0; i < 3; i++) {
      const response = await client.query(QUERY, { p: subject });
      expect(response.errors).toBeUndefined();
      await replica.deps.openedAccessLog.witnessing.settled();
    }
    const chain = replica.deps.openedAccessLog.config.chainId;
    const heads = await replica.deps.openedAccessLog.store.listTreeHeads(chain, 100);
    const newest = heads[0]!.size;
    let metrics = '';
    await vi.waitFor(
      async () => {
        metrics = (await get(replica.gateway.url, '/metrics', operator)).text;
        expect(sample(metrics, 'gateway_witness_cosigned_tree_size', { witness: 'witness.imy.test/w1', chain })).toBe(newest);
      },
      { timeout: 30_000, interval: 100 },
    );
    const rounds = sample(metrics, 'gateway_witness_cosign_total', { witness: 'witness.imy.test/w1', outcome: 'cosigned' })!;
    expect(rounds).toBeGreaterThanOrEqual(3);
    // Every round asked every witness, and each answered in its own way.
    expect(sample(metrics, 'gateway_witness_cosign_total', { witness: 'witness.riksrevisionen.test/w2', outcome: 'refused' })).toBe(rounds);
    expect(sample(metrics, 'gateway_witness_cosign_total', { witness: 'witness.down.test/w3', outcome: 'unreachable' })).toBe(rounds);
    expect(sample(metrics, 'gateway_witness_cosigned_tree_size', { witness: 'witness.riksrevisionen.test/w2', chain })).toBeNull();
    // One cosignature of the two required.
    expect(sample(metrics, 'gateway_witness_quorum_met', { chain })).toBe(0);

    const logged = lines.map((line) => JSON.parse(line) as Record<string, unknown>).filter((line) => typeof line['event'] === 'string' && String(line['event']).startsWith('witness-'));
    const refusals = logged.filter((line) => line['event'] === 'witness-refused');
    // Once per witness and kind of failure, however many rounds failed.
    expect(refusals).toHaveLength(2);
    expect(refusals.find((line) => line['witness'] === 'witness.riksrevisionen.test/w2')).toMatchObject({ level: 'warn', outcome: 'refused', status: 403, chainId: chain });
    expect(refusals.find((line) => line['witness'] === 'witness.down.test/w3')).toMatchObject({ level: 'warn', outcome: 'unreachable', status: null, reason: expect.stringMatching(/ECONNREFUSED/) });
    expect(logged.filter((line) => line['event'] === 'witness-quorum-missing')).toEqual([expect.objectContaining({ level: 'error', chainId: chain, witnesses: ['witness.imy.test/w1'] })]);
    // Nothing about the person read.
    for (const line of lines) expect(line).not.toContain(subject);
  });
});

describe('cosignatures the store refuses are counted and logged, and so is the recovery', () => {
  it('counts not-stored per witness, logs the store failure once by class and code, and says when storing works again', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'witness-store-'));
    const pool = witnessPool();
    const keys = await generateTestKeys();
    const treeSigner = noteSigner(LOG_NAME, SIG_ED25519, generateSeed());
    const witness = await pool.start('witness.imy.test/w1', [treeSigner.verifier]);
    // A gate in front of the real witness: its answer waits until the test has closed the store.
    let release: () => void = () => undefined;
    const opened = new Promise<void>((resolve) => {
      release = resolve;
    });
    let asked: () => void = () => undefined;
    const arrived = new Promise<void>((resolve) => {
      asked = resolve;
    });
    const gate = createHttpServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', async () => {
        asked();
        await opened;
        const answer = witness.witness.addCheckpoint(Buffer.concat(chunks).toString('utf8'));
        response.writeHead(answer.status, { 'content-type': answer.contentType });
        response.end(answer.body);
      });
    });
    await new Promise<void>((resolve) => gate.listen(0, '127.0.0.1', resolve));
    const target = { url: `http://127.0.0.1:${(gate.address() as { port: number }).port}`, name: witness.key.name, verifiers: [witness.key.verifier] };
    const metrics = new GatewayMetrics({ processMetrics: false });
    const lines: Record<string, unknown>[] = [];
    const logger = createLogger({ level: 'info', destination: { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) } });
    const observe = witnessObserver({ metrics, logger });
    try {
      const file = path.join(dir, 'log.db');
      let store = await SqliteAccessLogStore.open({ file });
      let rig = witnessedLog({ store, keys, treeSigner, witnesses: [target], quorum: 1, onWitnessEvent: observe });
      await rig.log.record([makeEntry()]);
      await arrived;
      await rig.log.close();
      await store.close();
      release();
      await rig.witnessing.close();
      const counted = async (outcome: string) => (await metrics.witnessCosigns.get()).values.find((v) => v.labels['outcome'] === outcome && v.labels['witness'] === 'witness.imy.test/w1')?.value ?? 0;
      expect(await counted('not-stored')).toBe(1);
      expect(await counted('cosigned')).toBe(0);
      const failure = lines.filter((line) => line['event'] === 'witness-cosignatures-not-stored');
      expect(failure).toEqual([expect.objectContaining({ level: 'error', witnesses: ['witness.imy.test/w1'], errorClass: expect.any(String) })]);
      // The store is back: the next tree head's cosignature is stored, and the log says so.
      store = await SqliteAccessLogStore.open({ file });
      rig = witnessedLog({ store, keys, treeSigner, witnesses: [target], quorum: 1, onWitnessEvent: observe });
      await rig.log.record([makeEntry()]);
      await rig.witnessing.settled();
      await rig.log.close();
      await rig.witnessing.close();
      await store.close();
      expect(await counted('cosigned')).toBe(1);
      expect(lines.filter((line) => line['event'] === 'witness-cosignatures-stored-again')).toEqual([expect.objectContaining({ level: 'warn', failedRounds: 1 })]);
      expect((await metrics.witnessQuorumMet.get()).values).toEqual([expect.objectContaining({ labels: { chain: 'replica-a' }, value: 1 })]);
    } finally {
      await new Promise((resolve) => gate.close(resolve));
      await pool.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
