import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqliteAccessLogStore } from '../../src/audit/store/sqliteStore.js';
import { subjectHmac } from '../../src/audit/subjectProtection.js';
import { verifyCitizenReport } from '../../src/audit/verifyReport.js';
import type { WitnessingEvent } from '../../src/audit/witnessing.js';
import { buildCitizenReport, withProofs, type CitizenReport } from '../../src/audit-api/citizenReport.js';
import { loadSupergraphSdl } from '../../src/apollo/supergraph.js';
import { ConfigError } from '../../src/config/parseEnv.js';
import { DEFAULT_SUPERGRAPH_PATH } from '../../src/config/paths.js';
import { loadTransparencyConfig, loadWitnessServiceConfig, parseWitnessList, witnessVerifiers } from '../../src/config/transparencyConfig.js';
import { startService } from '../../src/cli/processes.js';
import { readAgencyRegistry } from '../../src/identity/index.js';
import { readPersonalFieldCatalogue } from '../../src/policy/personalFieldCatalogue.js';
import { formatVerifierKey, generateSeed, noteSigner, SIG_COSIGNATURE_V1, SIG_ED25519, type NoteSigner, type NoteVerifier } from '../../src/transparency/note.js';
import { createTestFederation, LOCAL_SERVER, type TestFederation } from '../identity/testFederation.js';
import { makeEntry, SUBJECTS } from './helpers.js';
import { witnessedLog, witnessFixture, witnessTarget, type RunningWitness } from './witnessHarness.js';

const LOG_NAME = 'access-log.test.example';
const WITNESS = 'witness.imy.test/w1';
const catalogue = readPersonalFieldCatalogue(loadSupergraphSdl(DEFAULT_SUPERGRAPH_PATH).sdl);
const registry = readAgencyRegistry();
const clone = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;
const vkey = (signer: NoteSigner) => formatVerifierKey(signer.verifier);

let federation: TestFederation;
let tls: { cert: string; key: string };

beforeAll(() => {
  federation = createTestFederation();
  const issued = federation.issue({ id: 'witness', name: 'Witness', organisationNumber: '202100-0001' }, { profile: LOCAL_SERVER });
  tls = { cert: issued.certificatePem, key: issued.keyPair.privateKeyPem };
});
afterAll(() => federation?.cleanup());

describe('the witness serves HTTPS and the gateway verifies its certificate', () => {
  const fx = witnessFixture('witness-tls-');

  it('cosigns over HTTPS against the CA it was given, and counts a certificate from another CA as unreachable (tls)', async () => {
    const treeSigner = noteSigner(LOG_NAME, SIG_ED25519, generateSeed());
    const witness = await fx.pool.start(WITNESS, [treeSigner.verifier], undefined, { tls });
    expect(witness.url).toMatch(/^https:/);
    for (const [ca, file] of [
      [federation.ca.certificatePem, 'trusted.db'],
      [federation.otherCa.certificatePem, 'stranger.db'],
    ] as const) {
      const store = await SqliteAccessLogStore.open({ file: path.join(fx.dir, file) });
      const events: WitnessingEvent[] = [];
      const { log, witnessing } = witnessedLog({
        store,
        keys: fx.keys,
        treeSigner,
        witnesses: [witness],
        quorum: 1,
        ca,
        chainId: file === 'trusted.db' ? 'replica-a' : 'replica-b',
        onWitnessEvent: (e) => events.push(e),
      });
      await log.record([makeEntry()]);
      await witnessing.settled();
      await log.close();
      await witnessing.close();
      await store.close();
      if (file === 'trusted.db') expect(events).toEqual([expect.objectContaining({ type: 'cosigned', witnesses: [WITNESS], quorumMet: true })]);
      else
        expect(events).toEqual([
          expect.objectContaining({ type: 'witness-refused', witness: WITNESS, outcome: 'unreachable', status: null, reason: expect.stringMatching(/^witness unreachable \(tls/) }),
          expect.objectContaining({ type: 'cosigned', witnesses: [], quorumMet: false }),
        ]);
    }
  });

  it('npm run witness starts on HTTPS with its configured certificate and publishes its current and previous keys', async () => {
    const certPath = path.join(fx.dir, 'witness.crt');
    const keyPath = path.join(fx.dir, 'witness.key');
    writeFileSync(certPath, tls.cert);
    writeFileSync(keyPath, tls.key);
    const previous = noteSigner(WITNESS, SIG_COSIGNATURE_V1, generateSeed());
    const service = startService('witness', 'src/cli/witness.ts', {
      echoStdout: false,
      readyTimeoutMs: 60_000,
      env: {
        ...process.env,
        WITNESS_NAME: WITNESS,
        WITNESS_PORT: '0',
        WITNESS_KEY_PATH: path.join(fx.dir, 'w.key'),
        WITNESS_STATE_PATH: path.join(fx.dir, 'w.db'),
        WITNESS_LOGS: vkey(noteSigner(LOG_NAME, SIG_ED25519, generateSeed())),
        WITNESS_TLS_CERT_PATH: certPath,
        WITNESS_TLS_KEY_PATH: keyPath,
        WITNESS_PREVIOUS_KEYS: vkey(previous),
      },
    });
    try {
      const ready = await service.ready;
      expect(ready).toMatchObject({ url: expect.stringMatching(/^https:\/\/127\.0\.0\.1:\d+$/), previousKeys: [vkey(previous)] });
      const { Agent, request } = await import('undici');
      const agent = new Agent({ connect: { ca: federation.ca.certificatePem } });
      try {
        const response = await request(`${String(ready['url'])}/verifier-key`, { dispatcher: agent });
        expect((await response.body.text()).trim().split('\n')).toEqual([ready['verifierKey'], vkey(previous)]);
      } finally {
        await agent.close();
      }
    } finally {
      await service.stop();
    }
  });
});

describe('witness configuration', () => {
  const problems = (load: () => unknown): readonly string[] => {
    try {
      load();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      return (error as ConfigError).problems;
    }
    throw new Error('expected a ConfigError');
  };
  const signer = (name = WITNESS) => noteSigner(name, SIG_COSIGNATURE_V1, generateSeed());
  const logVkey = vkey(noteSigner(LOG_NAME, SIG_ED25519, generateSeed()));

  it('AUDIT_WITNESSES takes several keys per witness (a rotation), one witness for the quorum', () => {
    const [old, current, other] = [signer(), signer(), signer('witness.riksrevisionen.test/w2')];
    const config = loadTransparencyConfig({ AUDIT_WITNESSES: `https://w1.example ${vkey(current)} ${vkey(old)}; https://w2.example ${vkey(other)}` });
    expect(config.witnesses.map((w) => [w.name, w.verifiers.length])).toEqual([
      [WITNESS, 2],
      ['witness.riksrevisionen.test/w2', 1],
    ]);
    expect(config.quorum).toBe(2);
    expect(witnessVerifiers(config.witnesses)).toHaveLength(3);
  });

  it.each([
    ['keys of two names under one witness', () => `https://w ${vkey(signer())} ${vkey(signer('witness.other.test'))}`, /witness 1: the keys of one witness share its name/],
    ['one key listed twice', () => `https://w ${vkey(signer())}`.replace(/ (\S+)$/, ' $1 $1'), /witness 1: a key is listed twice/],
    ['plain http outside development', () => `http://w ${vkey(signer())}`, /witness 1: plain http:\/\/ is for GATEWAY_MODE=development only/],
  ])('AUDIT_WITNESSES refuses %s, naming the variable', (_name, value, message) => {
    expect(problems(() => loadTransparencyConfig({ AUDIT_WITNESSES: value() }))).toEqual([expect.stringMatching(new RegExp(`^AUDIT_WITNESSES: ${message.source}`))]);
  });

  it('plain http is accepted in development mode', () => {
    expect(parseWitnessList('AUDIT_WITNESSES', `http://127.0.0.1:7380 ${vkey(signer())}`, { allowPlainHttp: true })).toHaveLength(1);
    expect(loadTransparencyConfig({ GATEWAY_MODE: 'development', AUDIT_WITNESSES: `http://127.0.0.1:7380 ${vkey(signer())}` }).witnesses).toHaveLength(1);
  });

  it('npm run witness checks its TLS files and refuses plain HTTP outside development, at start', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'witness-config-'));
    try {
      const base = { WITNESS_LOGS: logVkey, WITNESS_NAME: WITNESS, CERTS_DIR: dir };
      expect(problems(() => loadWitnessServiceConfig(base))).toEqual([
        expect.stringMatching(/^WITNESS_TLS_CERT_PATH: cannot read .*servers\/witness\.crt \(ENOENT\)/),
        expect.stringMatching(/^WITNESS_TLS_KEY_PATH: cannot read .*servers\/witness\.key \(ENOENT\)/),
      ]);
      writeFileSync(path.join(dir, 'cert.pem'), tls.cert);
      writeFileSync(path.join(dir, 'other.key'), federation.keys[1].privateKeyPem);
      writeFileSync(path.join(dir, 'key.pem'), tls.key);
      expect(problems(() => loadWitnessServiceConfig({ ...base, WITNESS_TLS_CERT_PATH: path.join(dir, 'cert.pem'), WITNESS_TLS_KEY_PATH: path.join(dir, 'other.key') }))).toEqual([
        expect.stringMatching(/^WITNESS_TLS_CERT_PATH, WITNESS_TLS_KEY_PATH: .* are not a PEM certificate and its private key/),
      ]);
      expect(loadWitnessServiceConfig({ ...base, WITNESS_TLS_CERT_PATH: path.join(dir, 'cert.pem'), WITNESS_TLS_KEY_PATH: path.join(dir, 'key.pem') }).tls?.certPath).toBe(path.join(dir, 'cert.pem'));
      expect(problems(() => loadWitnessServiceConfig({ ...base, WITNESS_PLAIN_HTTP: 'true' }))).toEqual(['WITNESS_PLAIN_HTTP: plain HTTP is for WITNESS_MODE=development only']);
      expect(loadWitnessServiceConfig({ ...base, WITNESS_PLAIN_HTTP: 'true', WITNESS_MODE: 'development' }).tls).toBeNull();
      expect(problems(() => loadWitnessServiceConfig({ ...base, WITNESS_PLAIN_HTTP: 'true', WITNESS_MODE: 'development', WITNESS_PREVIOUS_KEYS: vkey(signer('witness.other.test')) }))).toEqual([
        expect.stringMatching(/^WITNESS_PREVIOUS_KEYS: a rotated key keeps the witness's name/),
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('witness key rotation', () => {
  const fx = witnessFixture('witness-rotation-');

  it('a report cosigned before the rotation still verifies after it, and one cosigned after by the new key, each witness counted once', async () => {
    const treeSigner = noteSigner(LOG_NAME, SIG_ED25519, generateSeed());
    const oldKey = noteSigner(WITNESS, SIG_COSIGNATURE_V1, generateSeed());
    const newKey = noteSigner(WITNESS, SIG_COSIGNATURE_V1, generateSeed());
    const store = await SqliteAccessLogStore.open({ file: path.join(fx.dir, 'log.db') });
    const report = async (witnesses: readonly NoteVerifier[]): Promise<CitizenReport> => {
      const { entries } = await store.query({ subjectHmac: subjectHmac(fx.keys.subjectKeys, SUBJECTS[0]) }, null, 1000);
      const built = buildCitizenReport({ subject: SUBJECTS[0], entries, rules: [], registry, catalogue, now: new Date('2026-11-05T12:00:00.000Z'), showHeldBack: false, scopeAgency: null });
      return withProofs(built, entries, store, { signer: treeSigner, witnesses, quorum: 1 });
    };
    const record = async (witness: RunningWitness, keysConfigured: readonly NoteVerifier[], count: number) => {
      const events: WitnessingEvent[] = [];
      const { log, witnessing } = witnessedLog({ store, keys: fx.keys, treeSigner, witnesses: [witnessTarget(witness, keysConfigured)], quorum: 1, onWitnessEvent: (e) => events.push(e) });
      for (let i = 0; i < count; i++) {
        await log.record([makeEntry({ subject: SUBJECTS[0], field: 'Person.taxedIncome', purpose: 'PAYMENT_CONTROL' })]);
        await witnessing.settled();
      }
      await log.close();
      await witnessing.close();
      return events;
    };

    // Before: the witness signs with its old key, the gateway knows that key.
    const before = await fx.pool.start(WITNESS, [treeSigner.verifier], oldKey);
    await record(before, [oldKey.verifier], 2);
    const early = await report([oldKey.verifier]);
    expect(verifyCitizenReport(clone(early), { log: treeSigner.verifier, witnesses: [oldKey.verifier], quorum: 1 })).toMatchObject({ ok: true, proved: 2 });

    // The rotation: the witness restarts with a new key and its state (the sizes it cosigned).
    await fx.pool.stopOne(before);
    const after = await fx.pool.start(WITNESS, [treeSigner.verifier], newKey, { stateFile: before.stateFile, previousKeys: [oldKey.verifier] });
    // A gateway not yet told of the new key keeps nothing it cannot verify, and says why.
    const stale = await record(after, [oldKey.verifier], 1);
    expect(stale).toEqual([
      expect.objectContaining({ type: 'witness-refused', witness: WITNESS, outcome: 'bad-cosignature', status: 200 }),
      expect.objectContaining({ type: 'cosigned', witnesses: [], quorumMet: false }),
    ]);
    // Told (AUDIT_WITNESSES lists both keys), it stores the new key's cosignatures.
    const rotated = witnessVerifiers(loadTransparencyConfig({ GATEWAY_MODE: 'development', AUDIT_WITNESSES: `${after.url} ${vkey(newKey)} ${vkey(oldKey)}` }).witnesses);
    expect(await record(after, rotated, 2)).toEqual([
      expect.objectContaining({ type: 'cosigned', witnesses: [WITNESS], quorumMet: true }),
      expect.objectContaining({ type: 'cosigned', witnesses: [WITNESS], quorumMet: true }),
    ]);

    const both = { log: treeSigner.verifier, witnesses: rotated, quorum: 1 };
    // The report from before the rotation: its checkpoint carries the old key's cosignature only.
    expect(verifyCitizenReport(clone(early), both)).toMatchObject({ ok: true, proved: 2, checkpoints: [expect.objectContaining({ size: 2, witnesses: [WITNESS] })] });
    // A new report proves against a checkpoint the new key cosigned.
    const late = await report(rotated);
    expect(verifyCitizenReport(clone(late), both)).toMatchObject({ ok: true, proved: 5, checkpoints: [expect.objectContaining({ size: 5, witnesses: [WITNESS] })] });
    // Without the old key, the early report no longer has its quorum: the old key must be kept as long as its reports are.
    expect(verifyCitizenReport(clone(early), { ...both, witnesses: [newKey.verifier] })).toMatchObject({ ok: false, code: 'WITNESS_QUORUM_NOT_MET' });
    // Two keys of one witness are one witness: a quorum of 2 is not met by its two keys.
    expect(verifyCitizenReport(clone(late), { ...both, quorum: 2 })).toMatchObject({ ok: false, code: 'WITNESS_QUORUM_NOT_MET' });
    await store.close();
  });
});
