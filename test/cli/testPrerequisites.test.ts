import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../src/config/paths.js';
import { DEFAULT_CHROMIUM_PATH, planChromium, type ChromiumPlan } from '../../src/cli/testPrerequisites.js';

/** `npm test`'s pretest step, run as npm runs it: its own process, the exit code and what it tells the developer. */
function pretest(env: Record<string, string>) {
  const result = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/testPrerequisites.ts'], { cwd: REPO_ROOT, env: { ...process.env, ...env }, encoding: 'utf8' });
  return { status: result.status, stderr: result.stderr };
}

describe('test prerequisites', () => {
  const PLANS: ReadonlyArray<[string, Parameters<typeof planChromium>[0], ChromiumPlan['action']]> = [
    ['present', { path: DEFAULT_CHROMIUM_PATH, executable: true, isRoot: false, hasAptGet: false }, 'ok'],
    ["missing, root with apt-get: install Debian's package", { path: DEFAULT_CHROMIUM_PATH, executable: false, isRoot: true, hasAptGet: true }, 'install'],
    ['missing, not root', { path: DEFAULT_CHROMIUM_PATH, executable: false, isRoot: false, hasAptGet: true }, 'stop'],
    ['missing, no apt-get', { path: DEFAULT_CHROMIUM_PATH, executable: false, isRoot: true, hasAptGet: false }, 'stop'],
    ['CHROMIUM_PATH elsewhere and missing: installing would not put it there', { path: '/opt/nowhere/chromium', executable: false, isRoot: true, hasAptGet: true }, 'stop'],
  ];

  it.each(PLANS)('chromium %s', (_name, facts, action) => {
    const plan = planChromium(facts);
    expect(plan.action).toBe(action);
    // Every stop gives the command that fixes it.
    if (plan.action === 'stop') expect(plan.problem).toContain('apt-get install -y chromium');
  });

  it('passes when Chromium, PostgreSQL and Redis are there', () => {
    // Any executable stands in for the browser: the check is that it exists, not which one it is.
    expect(pretest({ CHROMIUM_PATH: process.execPath }).status).toBe(0);
  });

  it('stops at once, naming CHROMIUM_PATH and the install command, when the browser is not where it says', () => {
    const { status, stderr } = pretest({ CHROMIUM_PATH: '/nonexistent/chromium' });
    expect(status).toBe(1);
    expect(stderr).toContain('CHROMIUM_PATH=/nonexistent/chromium');
    expect(stderr).toContain('apt-get install -y chromium');
  });

  it('names the PostgreSQL that cannot be reached and how to start it', () => {
    const { status, stderr } = pretest({ CHROMIUM_PATH: process.execPath, TEST_DATABASE_URL: 'postgres://postgres@127.0.0.1:1/test' });
    expect(status).toBe(1);
    expect(stderr).toContain('127.0.0.1:1');
    expect(stderr).toContain('pg_ctlcluster');
  });

  it('names a missing test database and the command that creates it', () => {
    const { status, stderr } = pretest({ CHROMIUM_PATH: process.execPath, TEST_DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/no_such_database_here' });
    expect(status).toBe(1);
    expect(stderr).toContain('createdb -h 127.0.0.1 -U postgres no_such_database_here');
  });
});
