/**
 * `npm run bench [-- --quick]`: what identity, policy and logging cost, side by side with the bare
 * engines, on the same subgraphs, data and machine in one run. docs/performance.md explains the
 * method and keeps the latest table.
 *
 * Layout on the 2-core machine (the same for every contender): core 1 runs the contenders (the
 * gateways and the fan-out client), one under load at a time, taking turns round by round
 * (measureInTurns); core 0 runs the four subgraphs and this process, which is the
 * load generator. Processes start unpinned (start-up is not measured) and are pinned with
 * `taskset -a` before anything is measured. Quick mode pins nothing.
 *
 * --quick: a small population, every contender started at once, one very short round per workload
 * at low concurrency, no warm-ups or scaling series: a smoke test that fails (exit 1) if any
 * contender answered wrongly. Its numbers are not measurements.
 */
import { spawnSync, spawn } from 'node:child_process';
import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import pg from 'pg';
import { Agent } from 'undici';
import { REFERENCE_AGENCIES } from '../src/agencies/referenceAgencies.js';
import { REPO_ROOT } from '../src/config/paths.js';
import { mintRequestToken } from '../src/client/mintRequestToken.js';
import { ensureDevFederation } from '../src/identity/pki/devFederation.js';
import { readAgencyRegistry } from '../src/identity/index.js';
import { ensurePopulation } from '../src/population/index.js';
import { documentId, normalizeDocument } from '../src/trusted-documents/documentId.js';
import { writeManifest } from '../src/trusted-documents/manifest.js';
import type { BenchCase } from './contextTokens.js';
import type { FanOutMessage, FanOutReply } from './fanOut.js';
import { percentile, runRound, type RoundResult } from './loadGenerator.js';
import { cpuSeconds, peakMemoryMiB, pin } from './procStats.js';
import { startProcess, type BenchProcess } from './processes.js';
import { canonicalJson, findSubjects, personsWorkload, workloads as mainWorkloads, type GatewayAnswer, type Workload } from './workloads.js';
import type { AppendResult } from './accessLogAppend.js';

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    // For working on the bench itself: a subset of contenders, e.g. --only bareApollo,oursSqlite.
    only: { type: 'string' },
    // For profiling one workload: a subset of the main workloads, e.g. --workloads onePerson (the persons-per-query series is skipped).
    workloads: { type: 'string' },
  },
});
const QUICK = args.quick;
const started = performance.now();
const loadAtStart = os.loadavg()[0]!;
// Quick: enough concurrent requests to exercise group commit and the replay cache, without a queue
// whose draining past a round's end would cost more than the round.
const CONCURRENCY = QUICK ? 4 : 32;
const DATABASE_URL = process.env['BENCH_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';
const BENCH_DIR = path.join(REPO_ROOT, 'bench');
const DATA_ROOT = path.join(REPO_ROOT, 'data', 'bench');
const POPULATION = QUICK ? 2_000 : 10_000;
const LARGE_POPULATION = 1_000_000;
const SCALING_PERSONS = [1, 10, 100, 1000] as const;
/** Warm-up seconds, counted rounds and seconds per round. */
const MAIN_PLAN = process.env['BENCH_PLAN']
  ? (([warmup, rounds, seconds]) => ({ warmup: warmup!, rounds: rounds!, seconds: seconds! }))(process.env['BENCH_PLAN'].split(',').map(Number))
  : QUICK
    ? { warmup: 0, rounds: 1, seconds: 0.25 }
    : { warmup: 2, rounds: 3, seconds: 3 };
const SUBGRAPH_WARMUP_SECONDS = QUICK ? 0 : 8;
const SCALING_PLAN = { warmup: 1, rounds: 2, seconds: 2 };
const CORE_CONTENDER = '1';
const CORE_REST = '0';

type ContenderId = 'fanOut' | 'bareApollo' | 'hive' | 'hiveRouter' | 'oursSqlite' | 'oursPostgres';
const TITLES: Record<ContenderId, string> = {
  fanOut: 'fan-out limit (no gateway)',
  bareApollo: 'bare @apollo/gateway',
  hive: 'bare Hive Gateway',
  hiveRouter: 'bare Hive Gateway (Rust planner)',
  oursSqlite: 'ours, full (SQLite log)',
  oursPostgres: 'ours, full (PostgreSQL log)',
};

interface Cell {
  readonly contender: ContenderId;
  readonly workload: string;
  readonly persons: number;
  readonly population: number;
  readonly requests: number;
  readonly seconds: number;
  readonly requestsPerSecond: number;
  readonly roundRequestsPerSecond: number[];
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly cpuSecondsPer1000: number;
  readonly subgraphCpuSecondsPer1000: number;
  readonly failures: number;
}

interface ContenderSummary {
  readonly contender: ContenderId;
  readonly title: string;
  readonly peakMemoryMiB: number;
  readonly problems: string[];
}

const say = (message: string) => process.stderr.write(`[bench ${((performance.now() - started) / 1000).toFixed(0).padStart(3)}s] ${message}\n`);
const problems: string[] = [];

// ---------------------------------------------------------------------------------------------
// Preparation: comparison dependencies, pinning, certificates, population, subjects.

if (QUICK) say('quick mode: a smoke test that every contender answers every workload correctly; its numbers mean nothing');
if (!['gateway-runtime', 'router-runtime'].every((name) => existsSync(path.join(BENCH_DIR, 'node_modules', '@graphql-hive', name)))) {
  say('installing bench/ dependencies (npm ci --prefix bench)');
  const install = spawnSync('npm', ['ci', '--prefix', BENCH_DIR, '--no-audit', '--no-fund'], { stdio: 'inherit' });
  if (install.status !== 0) throw new Error('npm ci --prefix bench failed');
}

// Quick mode measures nothing: pinned, each of its processes would only queue on one core behind
// whatever else the machine is running.
const pinned = !QUICK && os.cpus().length >= 2 && spawnSync('taskset', ['-V']).status === 0;
if (pinned) pin(process.pid, CORE_REST);
else if (!QUICK) say('taskset or a second core is missing: processes run unpinned and the numbers are not comparable with docs/performance.md');
const pinTo = (pid: number, cpus: string) => pinned && pin(pid, cpus);
const ALL_CORES = `0-${os.cpus().length - 1}`;
/**
 * A child inherits this process's affinity, core 0 alone once pinned: widened while it is spawned,
 * so that start-ups (not measured) use every core rather than queueing behind the subgraphs.
 */
function startUnpinned(...args: Parameters<typeof startProcess>): BenchProcess {
  if (!pinned) return startProcess(...args);
  pin(process.pid, ALL_CORES);
  try {
    return startProcess(...args);
  } finally {
    pin(process.pid, CORE_REST);
  }
}

// Quick mode measures nothing, so the append benchmark need not wait for the cores to be free.
const appendAhead = QUICK ? appendThroughput() : undefined;

const certsDir = path.join(DATA_ROOT, 'certs');
await ensureDevFederation({ dir: certsDir, registry: readAgencyRegistry() });
const populationDir = (persons: number) => path.join(DATA_ROOT, `population-${persons}`);
say(`population of ${POPULATION} persons`);
await ensurePopulation({ dir: populationDir(POPULATION), persons: POPULATION, seed: 1 });
const runDir = mkdtempSync(path.join(os.tmpdir(), 'exchange-bench-'));

const subjects = findSubjects(populationDir(POPULATION), QUICK ? 100 : 1000);
const workloads = mainWorkloads(subjects).filter((w) => !args.workloads || args.workloads.split(',').includes(w.name));
const scaling = (QUICK ? [] : SCALING_PERSONS).map((n) => personsWorkload(subjects.many.slice(0, n), `persons${n}`, `${n} persons per query`));
const casesFile = path.join(runDir, 'cases.json');
const trustedDocumentsDir = path.join(runDir, 'trusted-documents');
const writeCases = (list: readonly Workload[]) => {
  writeFileSync(casesFile, JSON.stringify(list.map((w): BenchCase => ({ workload: w.name, agency: w.agency, purpose: w.purpose, subjects: w.subjects }))));
  // Production mode runs only registered documents. The denied operation is listed too, bypassing
  // registration's own purpose check, so that at run time it reaches the purpose check (and its
  // logged denial) instead of stopping at the cheaper DOCUMENT_NOT_REGISTERED.
  const documents = new Map(list.map((w) => [documentId(w.query), w]));
  writeManifest(trustedDocumentsDir, {
    agency: 'malmo-stad',
    documents: [...documents].map(([id, w]) => ({ id, operationName: null, purposes: [w.purpose], document: normalizeDocument(w.query), registeredOn: '2026-01-01' })),
  });
};
writeCases([...workloads, ...scaling]);

const malmo = {
  certificate: new X509Certificate(readFileSync(path.join(certsDir, 'agencies', 'malmo-stad.crt'))),
  privateKey: createPrivateKey(readFileSync(path.join(certsDir, 'agencies', 'malmo-stad.key'))) as KeyObject,
  dispatcher: () =>
    new Agent({
      connections: CONCURRENCY,
      keepAliveTimeout: 30_000,
      connect: {
        ca: readFileSync(path.join(certsDir, 'ca.crt')),
        cert: readFileSync(path.join(certsDir, 'agencies', 'malmo-stad.crt')),
        key: readFileSync(path.join(certsDir, 'agencies', 'malmo-stad.key')),
      },
    }),
};

// ---------------------------------------------------------------------------------------------
// Subgraphs: four processes on core 0.

interface Subgraphs {
  readonly processes: BenchProcess[];
  readonly urls: string;
  cpu(): number;
  stop(): Promise<void>;
}

/** Node's flags for a V8 CPU profile written into `dir` when the process stops; none without a dir. */
function cpuProfileArgs(dir: string | undefined): string[] {
  return dir ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(dir)}`] : [];
}

async function startSubgraphs(dataDir: string): Promise<Subgraphs> {
  const processes = REFERENCE_AGENCIES.map((agency) =>
    startUnpinned(agency.id, 'src/cli/serveSubgraph.ts', {
      args: [agency.id],
      // A context token for a case of 1 000 persons is ~20 kB: above Node's default 16 kB header limit.
      // BENCH_SUBGRAPH_PROF=<dir>: a V8 CPU profile of each subgraph, written when it stops.
      nodeArgs: ['--max-http-header-size=131072', ...cpuProfileArgs(process.env['BENCH_SUBGRAPH_PROF'])],
      // The bare engines reuse one unbound context token per case (contextTokens.ts); subgraphs log a
      // line per request at info, so the shared subgraphs stay as quiet as before.
      env: { DATA_DIR: dataDir, CERTS_DIR: certsDir, SUBGRAPH_PORT: '0', SUBGRAPH_ACCEPT_UNBOUND_CONTEXT_TOKENS: 'true', LOG_LEVEL: 'warn' },
    }),
  );
  const ready = await Promise.all(processes.map((p) => p.ready));
  for (const p of processes) pinTo(p.pid, CORE_REST);
  return {
    processes,
    urls: processes.map((p, i) => `${p.name}=${String(ready[i]!['url'])}`).join(','),
    cpu: () => processes.reduce((sum, p) => sum + cpuSeconds(p.pid), 0),
    stop: async () => {
      await Promise.all(processes.map((p) => p.stop()));
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Contenders.

interface RunningContender {
  readonly id: ContenderId;
  readonly process: BenchProcess;
  readonly url?: string;
  readonly dispatcher?: Agent;
  readonly ours: boolean;
  stop(): Promise<void>;
}

async function startContender(id: ContenderId, subgraphs: Subgraphs): Promise<RunningContender> {
  const env: NodeJS.ProcessEnv = {
    CERTS_DIR: certsDir,
    SUBGRAPH_URLS: subgraphs.urls,
    GATEWAY_PORT: '0',
    GATEWAY_MODE: 'production',
    BENCH_CASES_FILE: casesFile,
  };
  let pgSchema: string | undefined;
  let entry: string;
  switch (id) {
    case 'fanOut':
      entry = 'bench/fanOut.ts';
      break;
    case 'bareApollo':
      entry = 'bench/bareApollo.ts';
      break;
    case 'hive':
      entry = 'bench/hiveGateway.ts';
      break;
    case 'hiveRouter':
      entry = 'bench/hiveGateway.ts';
      env['BENCH_HIVE_PLANNER'] = 'rust';
      break;
    case 'oursSqlite':
    case 'oursPostgres': {
      entry = 'src/cli/serveGateway.ts';
      const logDir = mkdtempSync(path.join(runDir, 'access-log-'));
      Object.assign(env, {
        DATA_DIR: logDir,
        AUDIT_CHAIN_ID: `bench-${id}`,
        TRUSTED_DOCUMENTS_DIR: trustedDocumentsDir,
        // The rate limiter stays on (its cost is part of ours) but with buckets no benchmark empties.
        RATE_LIMIT_AGENCY: '1000000/1000000',
        RATE_LIMIT_OFFICIAL: '1000000/1000000',
      });
      if (id === 'oursPostgres') {
        pgSchema = `access_log_bench_${process.pid}_${Date.now()}`;
        Object.assign(env, { DATABASE_URL, AUDIT_PG_SCHEMA: pgSchema });
      }
      break;
    }
  }
  // BENCH_CPU_PROF=<dir>: a V8 CPU profile of each contender, written when it stops (see docs/performance.md).
  const child = startUnpinned(id, entry, { env, ipc: id === 'fanOut', nodeArgs: cpuProfileArgs(process.env['BENCH_CPU_PROF']) });
  const ready = await child.ready;
  pinTo(child.pid, CORE_CONTENDER);
  const url = typeof ready['url'] === 'string' ? ready['url'] : undefined;
  const dispatcher = url ? malmo.dispatcher() : undefined;
  return {
    id,
    process: child,
    ...(url ? { url } : {}),
    ...(dispatcher ? { dispatcher } : {}),
    ours: id === 'oursSqlite' || id === 'oursPostgres',
    async stop() {
      await dispatcher?.close();
      await child.stop();
      if (pgSchema) await dropSchema(pgSchema);
    },
  };
}

async function dropSchema(schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: DATABASE_URL });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await client.end();
  }
}

function fanOutAsk(contender: RunningContender, message: FanOutMessage): Promise<FanOutReply> {
  return new Promise((resolve) => {
    contender.process.child.once('message', (reply) => resolve(reply as FanOutReply));
    contender.process.child.send(message);
  });
}

const mintTokens = async (w: Workload, count: number): Promise<string[]> => {
  const tokens: string[] = [];
  for (let i = 0; i < count; i++) {
    tokens.push(
      await mintRequestToken({
        certificate: malmo.certificate,
        privateKey: malmo.privateKey,
        official: 'bench-official',
        purpose: w.purpose,
        caseId: `BENCH-${w.name}`,
        subjects: w.subjects,
        lifetimeSeconds: 300,
      }),
    );
  }
  return tokens;
};

function headersFor(_contender: RunningContender, w: Workload, token?: string): Record<string, string> {
  return {
    'content-type': 'application/json',
    accept: 'application/graphql-response+json, application/json',
    'x-bench-workload': w.name,
    ...(token ? { authorization: `Bearer ${token}` } : {}),
  };
}

/** One request; the answer's problems (empty when right) and its data. */
async function checkOnce(contender: RunningContender, w: Workload): Promise<{ problems: string[]; data?: unknown }> {
  if (contender.id === 'fanOut') {
    const reply = await fanOutAsk(contender, { type: 'check', workload: w.name, query: w.fanOut!.query, variables: w.fanOut!.variables });
    if (reply.type !== 'checked') return { problems: ['unexpected reply'] };
    const expected = w.name === 'household' ? subjects.household.length : w.subjects.length;
    return { problems: [...reply.problems, ...(reply.persons === expected ? [] : [`read ${reply.persons} persons, expected ${expected}`])] };
  }
  const [token] = contender.ours ? await mintTokens(w, 1) : [];
  const { request } = await import('undici');
  const response = await request(contender.url!, {
    method: 'POST',
    dispatcher: contender.dispatcher!,
    headers: headersFor(contender, w, token),
    body: JSON.stringify({ query: w.query, variables: w.variables }),
  });
  const text = await response.body.text();
  let body: GatewayAnswer;
  try {
    body = JSON.parse(text) as GatewayAnswer;
  } catch {
    return { problems: [`HTTP ${response.statusCode} without JSON`] };
  }
  if (process.env['BENCH_DEBUG'] && body.errors?.length) say(`${contender.id} ${w.name}: ${JSON.stringify(body.errors).slice(0, 2000)}`);
  return { problems: w.check(response.statusCode, body), data: body.data };
}

interface Plan {
  readonly warmup: number;
  readonly rounds: number;
  readonly seconds: number;
}

/** One contender on one workload, measured a round at a time: rounds of several contenders can then take turns. */
interface Measurement {
  warm(): Promise<void>;
  round(): Promise<void>;
  cell(): Cell;
}

function measurement(contender: RunningContender, w: Workload, plan: Plan, subgraphs: Subgraphs, population: number): Measurement {
  let runOne: (seconds: number, tokens: string[]) => Promise<RoundResult>;
  if (contender.id === 'fanOut') {
    runOne = async (seconds) => {
      const reply = await fanOutAsk(contender, { type: 'run', workload: w.name, query: w.fanOut!.query, variables: w.fanOut!.variables, seconds, concurrency: CONCURRENCY });
      if (reply.type !== 'result') throw new Error('unexpected reply from the fan-out client');
      return { ...reply, exhausted: false };
    };
  } else {
    const body = JSON.stringify({ query: w.query, variables: w.variables });
    const fixed = headersFor(contender, w);
    runOne = (seconds, tokens) =>
      runRound(
        {
          url: contender.url!,
          dispatcher: contender.dispatcher!,
          body,
          expectedStatus: w.denied ? 403 : 200,
          nextHeaders: contender.ours
            ? () => {
                const token = tokens.pop();
                return token ? headersFor(contender, w, token) : undefined;
              }
            : () => fixed,
        },
        CONCURRENCY,
        seconds,
      );
  }
  // Request tokens are minted before each round, outside the timed loop: a jti is accepted once.
  const tokensFor = (rate: number, seconds: number) => (contender.ours ? mintTokens(w, Math.ceil(rate * seconds * 1.6) + 200) : Promise.resolve([]));
  // Until a warm-up has measured it (quick mode has none), a guess that sizes the first token pool.
  let rate = QUICK ? 200 : 1000;
  const results: RoundResult[] = [];
  let cpu = 0;
  let subgraphCpu = 0;
  return {
    async warm() {
      if (plan.warmup <= 0) return;
      const warm = await runOne(plan.warmup, await tokensFor(rate, plan.warmup));
      rate = warm.requests / warm.seconds;
    },
    async round() {
      const tokens = await tokensFor(rate, plan.seconds);
      const before = { cpu: cpuSeconds(contender.process.pid), subgraphs: subgraphs.cpu() };
      const result = await runOne(plan.seconds, tokens);
      cpu += cpuSeconds(contender.process.pid) - before.cpu;
      subgraphCpu += subgraphs.cpu() - before.subgraphs;
      results.push(result);
      rate = Math.max(rate, result.requests / result.seconds);
      if (result.exhausted) say(`  ${contender.id} ${w.name}: request tokens ran out before the round's end (round shortened)`);
    },
    cell() {
      const latencies = results.flatMap((r) => r.latenciesMs).sort((a, b) => a - b);
      const requests = results.reduce((s, r) => s + r.requests, 0);
      const seconds = results.reduce((s, r) => s + r.seconds, 0);
      return {
        contender: contender.id,
        workload: w.name,
        persons: w.name === 'household' ? subjects.household.length : w.subjects.length,
        population,
        requests,
        seconds,
        requestsPerSecond: requests / seconds,
        roundRequestsPerSecond: results.map((r) => r.requests / r.seconds),
        p50Ms: percentile(latencies, 0.5),
        p99Ms: percentile(latencies, 0.99),
        cpuSecondsPer1000: (cpu / requests) * 1000,
        subgraphCpuSecondsPer1000: (subgraphCpu / requests) * 1000,
        failures: results.reduce((s, r) => s + r.failures, 0),
      };
    },
  };
}

/** One contender on one workload, its rounds back to back. */
async function measure(contender: RunningContender, w: Workload, plan: Plan, subgraphs: Subgraphs, population: number): Promise<Cell> {
  const m = measurement(contender, w, plan, subgraphs, population);
  await m.warm();
  for (let i = 0; i < plan.rounds; i++) await m.round();
  return m.cell();
}

// ---------------------------------------------------------------------------------------------
// The run.

const cells: Cell[] = [];
const summaries: ContenderSummary[] = [];
/** Per workload, each gateway's data as canonical JSON: every gateway must return the same data for the same operation. */
const answers = new Map<string, Map<ContenderId, string>>();
/** How ours refused the 1 000-person query. */
const refusals = new Map<ContenderId, string>();
const ORDER: ContenderId[] = ['fanOut', 'bareApollo', 'hive', 'hiveRouter', 'oursSqlite', 'oursPostgres'];

interface PreparedContender {
  readonly id: ContenderId;
  readonly contender: RunningContender;
  /** The main workloads it is measured on (the denied one is ours alone). */
  readonly applicable: readonly Workload[];
  readonly problems: string[];
  /** Measured only when every answer was right. */
  readonly correct: boolean;
}

/** Starts a contender and checks its answers; the fan-out client also warms the subgraphs up. */
async function prepareContender(id: ContenderId): Promise<PreparedContender> {
  say(`${TITLES[id]}: starting`);
  const contender = await startContender(id, subgraphs);
  const contenderProblems: string[] = [];
  try {
    const applicable = workloads.filter((w) => !w.denied || contender.ours);
    for (const w of applicable) {
      const { problems: found, data } = await checkOnce(contender, w);
      if (data !== undefined && !w.denied) {
        const byContender = answers.get(w.name) ?? new Map<ContenderId, string>();
        answers.set(w.name, byContender.set(id, canonicalJson(data)));
      }
      contenderProblems.push(...found.map((p) => `${w.name}: ${p}`));
    }
    if (contender.ours && !QUICK) {
      // A case names at most MAX_SUBJECTS (100) persons: the 1 000-person query must be refused.
      const { problems: found } = await checkOnce(contender, scaling.at(-1)!);
      // (A 1 000-subject token is ~20 kB: Node's HTTP parser refuses the header before the token is read, 431.)
      const refusal = found.find((p) => /^HTTP 4\d\d( without JSON)?$/.test(p));
      if (!refusal) contenderProblems.push('persons1000: expected a refusal (at most 100 subjects per case)');
      else refusals.set(id, found.filter((p) => p.startsWith('errors:') || p === refusal).join(', '));
    }
    const correct = contenderProblems.length === 0;
    if (!correct) {
      say(`${TITLES[id]}: WRONG ANSWERS: ${contenderProblems.join('; ')}`);
    } else {
      say(`${TITLES[id]}: answers correct`);
      if (id === 'fanOut' && SUBGRAPH_WARMUP_SECONDS > 0) {
        // The subgraphs serve every contender: bring their JIT to steady state once, before anything is counted.
        for (const w of applicable)
          await fanOutAsk(contender, { type: 'run', workload: w.name, query: w.fanOut!.query, variables: w.fanOut!.variables, seconds: SUBGRAPH_WARMUP_SECONDS, concurrency: CONCURRENCY });
      }
    }
    return { id, contender, applicable, problems: contenderProblems, correct };
  } catch (error) {
    await contender.stop();
    throw error;
  }
}

function keepCell(prepared: PreparedContender, cell: Cell): void {
  cells.push(cell);
  say(`  ${prepared.id} ${cell.workload}: ${cell.requestsPerSecond.toFixed(0)} req/s, p99 ${cell.p99Ms.toFixed(1)} ms${cell.failures ? `, ${cell.failures} FAILED` : ''}`);
  if (cell.failures > 0) prepared.problems.push(`${cell.workload}: ${cell.failures} requests answered with an unexpected status under load`);
}

/**
 * The main workloads, the contenders taking turns round by round: each warms up, then round i
 * of every contender runs before round i + 1 of any. This shared VM slows down and speeds up by
 * a third or more for minutes at a time, and each contender measured for a minute of its own
 * carried its own minutes into the ratios; in turns, every contender samples the same ones.
 * Only one contender is under load at a time; the others wait idle on their core.
 */
async function measureInTurns(prepared: readonly PreparedContender[]): Promise<void> {
  for (const w of workloads) {
    const taking = prepared.filter((p) => p.correct && p.applicable.includes(w));
    const measurements = taking.map((p) => ({ p, m: measurement(p.contender, w, MAIN_PLAN, subgraphs, POPULATION) }));
    for (const { m } of measurements) await m.warm();
    for (let round = 0; round < MAIN_PLAN.rounds; round++) for (const { m } of measurements) await m.round();
    for (const { p, m } of measurements) keepCell(p, m.cell());
  }
}

/** Quick mode: one contender's workloads back to back (every contender runs at once). */
async function measureAlone(prepared: PreparedContender): Promise<void> {
  if (!prepared.correct) return;
  for (const w of prepared.applicable) keepCell(prepared, await measure(prepared.contender, w, MAIN_PLAN, subgraphs, POPULATION));
}

/** The persons-per-query series (bare Apollo and ours), a contender at a time. */
async function measureSeries(prepared: PreparedContender): Promise<void> {
  if (!prepared.correct || args.workloads) return;
  const { id, contender } = prepared;
  const series = id === 'bareApollo' ? scaling : id === 'oursSqlite' ? scaling.filter((w) => w.subjects.length <= 100) : [];
  for (const w of series) {
    const check = await checkOnce(contender, w);
    if (check.problems.length > 0) {
      prepared.problems.push(...check.problems.map((p) => `${w.name}: ${p}`));
      continue;
    }
    const cell = await measure(contender, w, SCALING_PLAN, subgraphs, POPULATION);
    cells.push(cell);
    say(`  ${id} ${w.name}: ${cell.requestsPerSecond.toFixed(0)} req/s, p50 ${cell.p50Ms.toFixed(1)} ms`);
  }
}

/** Its peak memory and problems into the summary, then stopped. */
async function finish(prepared: PreparedContender): Promise<void> {
  try {
    summaries.push({ contender: prepared.id, title: TITLES[prepared.id], peakMemoryMiB: peakMemoryMiB(prepared.contender.process.pid), problems: prepared.problems });
  } finally {
    await prepared.contender.stop();
  }
}

let subgraphs = await startSubgraphs(populationDir(POPULATION));
try {
  const selected = ORDER.filter((c) => !args.only || args.only.split(',').includes(c));
  if (QUICK) {
    // Start-up is most of a quick run, and its numbers mean nothing: every contender runs at once.
    // Each one stops itself, so all are waited for before a failure is passed on.
    const runs = await Promise.allSettled(
      selected.map(async (id) => {
        const prepared = await prepareContender(id);
        try {
          await measureAlone(prepared);
        } finally {
          await finish(prepared);
        }
      }),
    );
    for (const run of runs) if (run.status === 'rejected') throw run.reason;
  } else {
    // Started and checked one at a time, then measured in turns (measureInTurns); all are stopped
    // whatever fails.
    const prepared: PreparedContender[] = [];
    try {
      for (const id of selected) prepared.push(await prepareContender(id));
      await measureInTurns(prepared);
      for (const p of prepared) await measureSeries(p);
    } finally {
      for (const p of prepared) await finish(p);
    }
  }
  // Compared once all have answered, in ORDER: the same contender is blamed however their answers interleaved.
  for (const [workload, byContender] of answers) {
    const [reference, ...others] = [...byContender].sort(([a], [b]) => ORDER.indexOf(a) - ORDER.indexOf(b));
    for (const [id, json] of others) {
      if (json === reference![1]) continue;
      const problem = `${workload}: data differs from ${TITLES[reference![0]]}`;
      say(`${TITLES[id]}: WRONG ANSWERS: ${problem}`);
      summaries.find((s) => s.contender === id)!.problems.push(problem);
    }
  }
  for (const summary of summaries) problems.push(...summary.problems.map((p) => `${summary.contender} ${p}`));

  if (!QUICK && !args.only) {
    say(`population of ${LARGE_POPULATION} persons (generated once, ~140 s, then cached in ${path.relative(REPO_ROOT, populationDir(LARGE_POPULATION))}/)`);
    await subgraphs.stop();
    await ensurePopulation({ dir: populationDir(LARGE_POPULATION), persons: LARGE_POPULATION, seed: 1 });
    const largeSubjects = findSubjects(populationDir(LARGE_POPULATION), 50);
    const large = mainWorkloads(largeSubjects).filter((w) => w.name === 'onePerson' || w.name === 'list50');
    writeCases(large);
    subgraphs = await startSubgraphs(populationDir(LARGE_POPULATION));
    const contender = await startContender('oursSqlite', subgraphs);
    try {
      for (const w of large) {
        const check = await checkOnce(contender, w);
        if (check.problems.length > 0) {
          problems.push(...check.problems.map((p) => `oursSqlite (1M) ${w.name}: ${p}`));
          continue;
        }
        const cell = await measure(contender, w, MAIN_PLAN, subgraphs, LARGE_POPULATION);
        cells.push(cell);
        say(`  1M ${w.name}: ${cell.requestsPerSecond.toFixed(0)} req/s, p50 ${cell.p50Ms.toFixed(1)} ms`);
      }
    } finally {
      await contender.stop();
    }
  }
} finally {
  await subgraphs.stop();
}

const append = await (appendAhead ?? appendThroughput());

// ---------------------------------------------------------------------------------------------
// Report.

const machine = await describeMachine();
const markdown = renderMarkdown();
process.stdout.write(`${markdown}\n`);
const resultsDir = path.join(BENCH_DIR, 'results');
mkdirSync(resultsDir, { recursive: true });
const stamp = new Date().toISOString().replace(/[:.]/g, '-');
const resultFile = path.join(resultsDir, QUICK ? 'quick-latest.json' : `full-${stamp}.json`);
writeFileSync(
  resultFile,
  `${JSON.stringify({ refusals: Object.fromEntries(refusals), mode: QUICK ? 'quick' : 'full', date: new Date().toISOString(), machine, concurrency: CONCURRENCY, plans: { main: MAIN_PLAN, scaling: SCALING_PLAN }, contenders: summaries, cells, append, problems, durationSeconds: (performance.now() - started) / 1000 }, null, 2)}\n`,
);
if (!QUICK) updatePerformanceDoc(markdown);
rmSync(runDir, { recursive: true, force: true });
say(`results: ${path.relative(REPO_ROOT, resultFile)}; ${((performance.now() - started) / 1000).toFixed(0)} s in all`);
if (problems.length > 0) {
  say(`FAILED: ${problems.length} problem(s):\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
if (QUICK) say('quick mode: every contender answered every workload correctly (the numbers above mean nothing)');
process.exit(0);

// ---------------------------------------------------------------------------------------------

async function appendThroughput(): Promise<AppendResult[]> {
  say('access-log append throughput');
  const argv = ['--json', '--seconds', QUICK ? '0.25' : '3', '--concurrency', QUICK ? '64' : '1,64,256', '--entries', '5', '--backend', 'sqlite,postgres'];
  const command = pinned ? 'taskset' : process.execPath;
  const commandArgs = [...(pinned ? ['-c', CORE_CONTENDER, process.execPath] : []), '--import', 'tsx', 'bench/accessLogAppend.ts', ...argv];
  const child = spawn(command, commandArgs, { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, BENCH_DATABASE_URL: DATABASE_URL } });
  const results: AppendResult[] = [];
  createInterface({ input: child.stdout }).on('line', (line) => {
    try {
      results.push(JSON.parse(line) as AppendResult);
    } catch {
      process.stderr.write(`[append] ${line}\n`);
    }
  });
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0) problems.push(`access-log append benchmark exited with ${code}`);
  return results;
}

async function describeMachine() {
  const cpus = os.cpus();
  let postgres = 'unavailable';
  try {
    const client = new pg.Client({ connectionString: DATABASE_URL });
    await client.connect();
    postgres = String((await client.query('SHOW server_version')).rows[0]?.server_version);
    await client.end();
  } catch {
    // reported as unavailable
  }
  const git = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: REPO_ROOT, encoding: 'utf8' }).stdout.trim();
  const dirty = spawnSync('git', ['status', '--porcelain', '--', 'src', 'resolvers', 'schema'], { cwd: REPO_ROOT, encoding: 'utf8' }).stdout.trim() !== '';
  const hive = JSON.parse(readFileSync(path.join(BENCH_DIR, 'node_modules', '@graphql-hive', 'gateway-runtime', 'package.json'), 'utf8')) as { version: string };
  const hiveRouter = JSON.parse(readFileSync(path.join(BENCH_DIR, 'node_modules', '@graphql-hive', 'router-runtime', 'package.json'), 'utf8')) as { version: string };
  const apollo = JSON.parse(readFileSync(path.join(REPO_ROOT, 'node_modules', '@apollo', 'gateway', 'package.json'), 'utf8')) as { version: string };
  return {
    cpuModel: cpus[0]?.model ?? 'unknown',
    cores: cpus.length,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    os: `${os.type()} ${os.release()}`,
    sqlite: new Database(':memory:').prepare('SELECT sqlite_version()').pluck().get() as string,
    postgres,
    apolloGateway: apollo.version,
    hiveGatewayRuntime: hive.version,
    hiveRouterRuntime: hiveRouter.version,
    loadAverage: { atStart: loadAtStart, atEnd: os.loadavg()[0]! },
    commit: `${git}${dirty ? ' (with uncommitted changes)' : ''}`,
    pinning: pinned ? `contender on CPU ${CORE_CONTENDER}; subgraphs and load generator on CPU ${CORE_REST}` : 'none',
  };
}

function renderMarkdown(): string {
  const fmt = (n: number, digits = 0) => (Number.isFinite(n) ? n.toFixed(digits) : '—');
  const cell = (contender: ContenderId, workload: string, population = POPULATION) => cells.find((c) => c.contender === contender && c.workload === workload && c.population === population);
  const lines: string[] = [];
  if (QUICK) {
    lines.push(
      '**Quick mode: a smoke test of correctness. Its numbers mean nothing: each comes from a quarter of a second of load at concurrency 4, without warm-up, while other contenders start on the same cores.**',
    );
    lines.push('');
  }
  lines.push(`### Side by side (${POPULATION.toLocaleString('en-US')} persons, concurrency ${CONCURRENCY}, ${MAIN_PLAN.rounds} × ${MAIN_PLAN.seconds} s after ${MAIN_PLAN.warmup} s warm-up)`);
  lines.push('');
  lines.push('| workload | contender | req/s | p50 ms | p99 ms | contender CPU s / 1000 req | subgraphs CPU s / 1000 req | peak RSS MiB |');
  lines.push('| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const w of workloads) {
    for (const id of ORDER) {
      const c = cell(id, w.name);
      if (!c) continue;
      const memory = summaries.find((s) => s.contender === id)?.peakMemoryMiB ?? Number.NaN;
      lines.push(
        `| ${w.title} | ${TITLES[id]} | ${fmt(c.requestsPerSecond)} | ${fmt(c.p50Ms, 1)} | ${fmt(c.p99Ms, 1)} | ${fmt(c.cpuSecondsPer1000, 2)} | ${fmt(c.subgraphCpuSecondsPer1000, 2)} | ${fmt(memory)} |`,
      );
    }
  }
  lines.push('');
  lines.push('### Ratios (requests/s unless said otherwise)');
  lines.push('');
  lines.push(
    '| workload | ours/bare Apollo | ours/Hive | ours/Hive (Rust planner) | ours p99 − bare Apollo p99 | ours CPU/req ÷ bare Apollo | bare Apollo/fan-out | Hive/fan-out | Hive (Rust planner)/fan-out | ours/fan-out | ours (PostgreSQL)/bare Apollo |',
  );
  lines.push('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  const ratio = (a?: Cell, b?: Cell) => (a && b ? `${(a.requestsPerSecond / b.requestsPerSecond).toFixed(2)}×` : '—');
  for (const w of workloads.filter((x) => !x.denied)) {
    const ours = cell('oursSqlite', w.name);
    const bare = cell('bareApollo', w.name);
    const hive = cell('hive', w.name);
    const hiveRouter = cell('hiveRouter', w.name);
    const fan = cell('fanOut', w.name);
    lines.push(
      `| ${w.title} | ${ratio(ours, bare)} | ${ratio(ours, hive)} | ${ratio(ours, hiveRouter)} | ${ours && bare ? `${(ours.p99Ms - bare.p99Ms).toFixed(1)} ms` : '—'} | ${ours && bare ? `${(ours.cpuSecondsPer1000 / bare.cpuSecondsPer1000).toFixed(2)}×` : '—'} | ${ratio(bare, fan)} | ${ratio(hive, fan)} | ${ratio(hiveRouter, fan)} | ${ratio(ours, fan)} | ${ratio(cell('oursPostgres', w.name), bare)} |`,
    );
  }
  const denied = cell('oursSqlite', 'denied');
  const one = cell('oursSqlite', 'onePerson');
  if (denied && one)
    lines.push(`\nDenied operation: ${fmt(denied.requestsPerSecond)} req/s = ${(denied.requestsPerSecond / one.requestsPerSecond).toFixed(2)}× the one-person workload (ours, SQLite log).`);

  if (!QUICK) {
    lines.push('');
    lines.push(`### Persons per query (Query.persons; ${SCALING_PLAN.rounds} × ${SCALING_PLAN.seconds} s after ${SCALING_PLAN.warmup} s warm-up)`);
    lines.push('');
    lines.push('| persons | contender | req/s | p50 ms | p99 ms | contender CPU ms / request | contender CPU ms / person |');
    lines.push('| ---: | --- | ---: | ---: | ---: | ---: | ---: |');
    for (const n of SCALING_PERSONS) {
      for (const id of ['bareApollo', 'oursSqlite'] as const) {
        const c = cell(id, `persons${n}`);
        if (!c) {
          if (id === 'oursSqlite' && n > 100) lines.push(`| ${n} | ${TITLES[id]} | refused (${refusals.get(id) ?? '?'}): a case names at most 100 subjects | | | | |`);
          continue;
        }
        lines.push(`| ${n} | ${TITLES[id]} | ${fmt(c.requestsPerSecond)} | ${fmt(c.p50Ms, 1)} | ${fmt(c.p99Ms, 1)} | ${fmt(c.cpuSecondsPer1000, 2)} | ${fmt(c.cpuSecondsPer1000 / n, 3)} |`);
      }
    }
    lines.push('');
    lines.push('### Population size (ours, SQLite log)');
    lines.push('');
    lines.push('| workload | persons in register | req/s | p50 ms | p99 ms | subgraphs CPU s / 1000 req |');
    lines.push('| --- | ---: | ---: | ---: | ---: | ---: |');
    for (const name of ['onePerson', 'list50']) {
      for (const population of [POPULATION, LARGE_POPULATION]) {
        const c = cell('oursSqlite', name, population);
        if (c)
          lines.push(
            `| ${workloads.find((w) => w.name === name)!.title} | ${population.toLocaleString('en-US')} | ${fmt(c.requestsPerSecond)} | ${fmt(c.p50Ms, 1)} | ${fmt(c.p99Ms, 1)} | ${fmt(c.subgraphCpuSecondsPer1000, 2)} |`,
          );
      }
    }
  }
  lines.push('');
  lines.push('### Access-log append (durable, group commit, 5 entries per record())');
  lines.push('');
  lines.push('| store | concurrent requests | entries/s | entries per commit | p50 ms | p99 ms | CPU µs/entry: process (event loop) + PostgreSQL | event loop busy |');
  lines.push('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const a of append) {
    const cpu = `${fmt(a.writerCpuUsPerEntry, 1)} (${fmt(a.mainThreadCpuUsPerEntry, 1)})${a.serverCpuUsPerEntry === null ? '' : ` + ${fmt(a.serverCpuUsPerEntry, 1)}`}`;
    lines.push(
      `| ${a.backend} | ${a.concurrency} | ${fmt(a.entriesPerSecond)} | ${fmt(a.entriesPerCommit, 1)} | ${fmt(a.p50Ms, 1)} | ${fmt(a.p99Ms, 1)} | ${cpu} | ${Math.round(a.mainThreadBusy * 100)}% |`,
    );
  }
  lines.push('');
  lines.push(
    `Machine: ${machine.cpuModel}, ${machine.cores} cores, ${machine.memoryGiB} GiB, Node ${machine.node}, SQLite ${machine.sqlite}, PostgreSQL ${machine.postgres}, @apollo/gateway ${machine.apolloGateway}, Hive gateway runtime ${machine.hiveGatewayRuntime}, Hive router runtime ${machine.hiveRouterRuntime}; ${machine.pinning}; commit ${machine.commit}; load average ${machine.loadAverage.atStart.toFixed(1)} at start, ${machine.loadAverage.atEnd.toFixed(1)} at end.`,
  );
  if (machine.loadAverage.atStart > 1.5) lines.push('\n**The machine was busy with other work when the run started: these numbers are not representative.**');
  return lines.join('\n');
}

function updatePerformanceDoc(markdown: string): void {
  const file = path.join(REPO_ROOT, 'docs', 'performance.md');
  if (!existsSync(file)) return;
  const text = readFileSync(file, 'utf8');
  const begin = '<!-- bench:begin -->';
  const end = '<!-- bench:end -->';
  const i = text.indexOf(begin);
  const j = text.indexOf(end);
  if (i < 0 || j < i) return;
  writeFileSync(file, `${text.slice(0, i + begin.length)}\n${markdown}\n${text.slice(j)}`);
}
