import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { createConnection } from 'node:net';
import { pathToFileURL } from 'node:url';
import pg from 'pg';

/**
 * `npm test`'s pretest step: what the test suite needs besides node_modules, checked before a
 * minute of codegen and type checking is spent. Debian's Chromium (browser tests) is installed
 * when it is missing and we may (root with apt-get, as on these machines); anything else stops at
 * once with the exact command to run. PostgreSQL and Redis are checked, never started: starting
 * a database is the machine's business (.ci/run does it on CI).
 */

/** Debian's Chromium: the browser tests never download a browser of their own. */
export const DEFAULT_CHROMIUM_PATH = '/usr/bin/chromium';
export const DEFAULT_TEST_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/test';
export const DEFAULT_TEST_REDIS = { host: '127.0.0.1', port: 6379 } as const;

/** The Chromium the browser tests launch: CHROMIUM_PATH, or Debian's. */
export function chromiumPath(env: NodeJS.ProcessEnv = process.env): string {
  return env['CHROMIUM_PATH'] || DEFAULT_CHROMIUM_PATH;
}

export const APT_INSTALL_CHROMIUM = 'apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium';

export type ChromiumPlan = { readonly action: 'ok' } | { readonly action: 'install' } | { readonly action: 'stop'; readonly problem: string };

/** What to do about Chromium; pure, so every branch is tested without touching the machine. */
export function planChromium(facts: { readonly path: string; readonly executable: boolean; readonly isRoot: boolean; readonly hasAptGet: boolean }): ChromiumPlan {
  if (facts.executable) return { action: 'ok' };
  if (facts.path !== DEFAULT_CHROMIUM_PATH) {
    return {
      action: 'stop',
      problem: `CHROMIUM_PATH=${facts.path}: no executable there. Point CHROMIUM_PATH at a Chromium, or unset it and run (as root): ${APT_INSTALL_CHROMIUM}`,
    };
  }
  if (facts.isRoot && facts.hasAptGet) return { action: 'install' };
  return {
    action: 'stop',
    problem: `Chromium is missing at ${DEFAULT_CHROMIUM_PATH} (the browser tests use Debian's Chromium). Run as root: ${APT_INSTALL_CHROMIUM}`,
  };
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function onPath(command: string, env: NodeJS.ProcessEnv): boolean {
  return spawnSync('sh', ['-c', `command -v ${command}`], { env, stdio: 'ignore' }).status === 0;
}

export interface PrerequisiteOutput {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
}

async function ensureChromium(env: NodeJS.ProcessEnv, output: PrerequisiteOutput): Promise<string | undefined> {
  const path = chromiumPath(env);
  const plan = planChromium({ path, executable: isExecutable(path), isRoot: process.getuid?.() === 0, hasAptGet: onPath('apt-get', env) });
  if (plan.action === 'ok') return undefined;
  if (plan.action === 'stop') return plan.problem;
  output.out(`pretest: Chromium is missing at ${path}; installing Debian's package: ${APT_INSTALL_CHROMIUM}`);
  const installed = spawnSync('sh', ['-c', APT_INSTALL_CHROMIUM], { env: { ...env, DEBIAN_FRONTEND: 'noninteractive' }, stdio: ['ignore', 'inherit', 'inherit'] });
  if (installed.status === 0 && isExecutable(path)) return undefined;
  return `Installing Chromium failed (${installed.status === null ? `signal ${installed.signal}` : `exit code ${installed.status}`}). Run as root and read its output: ${APT_INSTALL_CHROMIUM}`;
}

/** Connects the way the tests do and says exactly what to do when that fails. */
async function checkPostgres(env: NodeJS.ProcessEnv): Promise<string | undefined> {
  const url = env['TEST_DATABASE_URL'] || DEFAULT_TEST_DATABASE_URL;
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('SELECT 1');
    return undefined;
  } catch (error) {
    const { code } = error as { code?: string };
    const where = new URL(url);
    const target = `${where.hostname}:${where.port || 5432}`;
    const database = where.pathname.slice(1) || 'postgres';
    switch (code) {
      case 'ECONNREFUSED':
      case 'ETIMEDOUT':
      case 'ENOTFOUND':
        return `PostgreSQL is not reachable at ${target} (${code}); the tests need it there with trust auth and a database "${database}". Start it (as root): pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start — or point TEST_DATABASE_URL at another server.`;
      case '3D000':
        return `PostgreSQL at ${target} has no database "${database}". Create it: createdb -h ${where.hostname} -U ${where.username || 'postgres'} ${database}`;
      case '28P01':
      case '28000':
        return `PostgreSQL at ${target} refused user "${where.username || 'postgres'}" (${code}); the tests connect without a password. Allow it in pg_hba.conf (host all all 127.0.0.1/32 trust) and reload PostgreSQL, or set TEST_DATABASE_URL.`;
      default:
        return `PostgreSQL at ${target} could not be used: ${(error as Error).message}${code ? ` (${code})` : ''}.`;
    }
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** A bare PING, so the check needs no client library of its own. */
function checkRedis(): Promise<string | undefined> {
  const { host, port } = DEFAULT_TEST_REDIS;
  const missing = `Redis is not reachable at ${host}:${port}; the rate-limit and replay tests need it. Start it (as root): redis-server --daemonize yes --bind 127.0.0.1 --port ${port} --save "" --appendonly no`;
  return new Promise((resolve) => {
    const socket = createConnection({ host, port });
    let reply = '';
    const done = (problem: string | undefined) => {
      socket.destroy();
      resolve(problem);
    };
    socket.setTimeout(10_000, () => done(missing));
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk.toString();
      if (reply.includes('\r\n'))
        done(reply.startsWith('+PONG') ? undefined : `Redis at ${host}:${port} answered PING with ${JSON.stringify(reply.trim())}; the tests need a Redis without a password.`);
    });
    socket.on('error', () => done(missing));
  });
}

/** Returns the exit code: 0 when everything is there, 1 with one line per problem otherwise. */
export async function runTestPrerequisites(env: NodeJS.ProcessEnv = process.env, output: PrerequisiteOutput = { out: console.log, err: console.error }): Promise<number> {
  const problems = (await Promise.all([ensureChromium(env, output), checkPostgres(env), checkRedis()])).filter((p): p is string => p !== undefined);
  for (const problem of problems) output.err(`pretest: ${problem}`);
  return problems.length === 0 ? 0 : 1;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await runTestPrerequisites();
}
