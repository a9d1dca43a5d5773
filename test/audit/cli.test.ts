import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { auditCli } from './auditCli.js';
import { loadAccessLogConfig } from '../../src/config/accessLogConfig.js';
import { REPO_ROOT } from '../../src/config/paths.js';
import { openAccessLogFromConfig } from '../../src/audit/openAccessLog.js';
import { loadTransparencyConfig } from '../../src/config/transparencyConfig.js';
import { generateTestKeys, makeEntry, SUBJECTS } from './helpers.js';
import { writeKeyFiles } from './keyFiles.js';

const run = promisify(execFile);

describe('npm run audit', () => {
  let dataDir: string;
  let keyDir: string;
  let env: NodeJS.ProcessEnv;

  beforeEach(async () => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'access-log-cli-'));
    const files = writeKeyFiles(await generateTestKeys());
    keyDir = files.dir;
    env = {
      DATA_DIR: dataDir,
      AUDIT_KEYS_PATH: files.auditKeysPath,
      GATEWAY_SIGNING_KEY_PATH: files.signingKeyPath,
      AUDIT_CHAIN_ID: 'cli-replica',
      AUDIT_CHECKPOINT_EVERY: '4',
      AUDIT_RETENTION_DAYS: '*=30',
      AUDIT_TLOG_KEY_PATH: path.join(keyDir, 'access-log-note.key'),
      // Tree heads at the first commit and at close only, whatever the machine's speed.
      AUDIT_TLOG_INTERVAL_MS: '3600000',
    };
    // The same path the gateway takes: config → keys → store → writer.
    const { accessLog } = await openAccessLogFromConfig({ config: loadAccessLogConfig(env), transparency: loadTransparencyConfig(env) });
    for (let i = 0; i < 10; i++) await accessLog.record([makeEntry({ time: '2020-01-01T00:00:00.000Z', caseId: i === 6 ? 'held-case' : 'case-1' })]);
    await accessLog.close();
  });
  afterEach(() => {
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(keyDir, { recursive: true, force: true });
  });

  const cli = (...argv: string[]) => auditCli(env, ...argv);

  it('verify exits 0 on an intact log and 1 naming the first broken entry', async () => {
    expect(await cli('verify')).toMatchObject({
      code: 0,
      out: expect.stringMatching(/^ok +chain cli-replica: seq 1\.\.10, 10 entries, 3 checkpoints, 0 after the last checkpoint\nok +tree cli-replica: 10 leaves, 2 signed tree heads$/),
    });
    const db = new Database(path.join(dataDir, 'access-log.db'));
    db.exec("UPDATE log_records SET body = replace(body, 'Person.income', 'Person.name') WHERE last_seq = 3");
    db.close();
    const broken = await cli('verify');
    expect(broken.code).toBe(1);
    expect(broken.err).toMatch(/First broken entry: chain cli-replica seq 3: hash-mismatch/);
  });

  it("verify names a changed Merkle tree: a node that is not its children's hash, a leaf that is not its record", async () => {
    const db = new Database(path.join(dataDir, 'access-log.db'));
    db.exec('UPDATE log_tree_nodes SET hash = zeroblob(32) WHERE level = 1 AND idx = 0');
    const node = await cli('verify');
    expect(node).toMatchObject({ code: 1, out: expect.stringMatching(/^BROKEN tree cli-replica: 10 leaves, 0 signed tree heads: tree node level 1 index 0 is not the hash of its children/m) });
    db.exec('UPDATE log_tree_nodes SET hash = zeroblob(32) WHERE level = 0 AND idx = 4');
    db.close();
    expect(await cli('verify')).toMatchObject({
      code: 1,
      out: expect.stringMatching(/^BROKEN tree cli-replica: 4 leaves, 0 signed tree heads: the tree's leaf 4 is not the hash of the record ending at seq 5/m),
    });
  });

  it('adds and lists legal holds without echoing the personnummer', async () => {
    expect((await cli('hold', 'add', '--case', 'held-case', '--reason', 'JO 2025/17')).code).toBe(0);
    const subject = await cli('hold', 'add', '--subject', SUBJECTS[1]);
    expect(subject.code).toBe(0);
    expect(subject.out).not.toContain(SUBJECTS[1]);
    const list = await cli('hold', 'list');
    expect(list.out.split('\n')).toEqual([expect.stringMatching(/^1\t.*\tcase held-case\tJO 2025\/17$/), expect.stringMatching(/^2\t.*\tsubject [0-9a-f]{16}…$/)]);
    expect(list.out).not.toContain(SUBJECTS[1]);
    expect(await cli('hold', 'add')).toMatchObject({ code: 2 });
    expect(await cli('hold', 'add', '--subject', '12345')).toMatchObject({ code: 2 });
  });

  it('purge --dry-run reports, purge removes whole segments up to the legal hold', async () => {
    await cli('hold', 'add', '--case', 'held-case');
    const dry = await cli('purge', '--dry-run');
    expect(dry).toMatchObject({ code: 0, out: 'chain cli-replica: would purge seq 1..4 in 1 segment(s); stops at seq 7 (legal-hold)' });
    expect((await cli('verify')).out).toMatch(/seq 1\.\.10/);
    const purge = await cli('purge');
    expect(purge.code).toBe(0);
    expect(purge.out).toContain('chain cli-replica: purged 4 entries in 1 segment(s)');
    expect(await cli('verify')).toMatchObject({ code: 0, out: expect.stringMatching(/seq 5\.\.10, 6 entries/) });
  });

  it('runs as `npm run audit -- verify` with exit code 0', async () => {
    const { stdout } = await run('npm', ['run', '--silent', 'audit', '--', 'verify'], { cwd: REPO_ROOT, env: { ...process.env, ...env } });
    expect(stdout).toMatch(/ok +chain cli-replica/);
  });

  it('exits 2 with the usage on an unknown command', async () => {
    expect(await cli('frobnicate')).toMatchObject({ code: 2, err: expect.stringContaining('Usage: npm run audit') });
  });
});
