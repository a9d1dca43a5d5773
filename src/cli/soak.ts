import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { buildSchema } from 'graphql';
import { ConfigError } from '../config/parseEnv.js';
import { loadSoakConfig } from '../config/commandsConfig.js';
import { DEFAULT_API_SCHEMA_PATH, DEFAULT_SUPERGRAPH_PATH } from '../config/paths.js';
import { loadAccessLogConfig } from '../config/accessLogConfig.js';
import { loadSigningKey } from '../audit/openAccessLog.js';
import { samplePersons } from '../population/index.js';
import { createAgencyClient, type AgencyClient } from '../client/index.js';
import { readPersonalFieldCatalogue } from '../policy/personalFieldCatalogue.js';
import { countReleasedPersonalValues, UncountableResponseError } from '../audit/releasedValues.js';
import { SqliteAccessLogStore } from '../audit/store/sqliteStore.js';
import { verifyAccessLog } from '../audit/verify.js';
import { startExchangeProcesses } from './exchangeProcesses.js';

/**
 * `npm run soak`: the exchange as separate processes (every agency subgraph, the gateway, the access log
 * in SQLite) under steady load from several partner clients for SOAK_SECONDS, while
 *   - one subgraph process (CSN) is killed with SIGKILL and started again,
 *   - the log store is paused (another connection holds SQLite's write lock) for a few seconds,
 *   - and at the end the gateway gets SIGTERM while the load still runs.
 * Then it compares, request by request (each has its own case id), the personal values the
 * partners received with the `released` entries in the log, verifies the hash chain, and exits
 * non-zero if a single released value has no entry. Not part of `npm test`: it takes minutes.
 */

interface Workload {
  readonly agency: string;
  readonly document: string;
  variables(subject: string): Record<string, unknown>;
}

const WORKLOADS: readonly Workload[] = [
  {
    agency: 'malmo-stad',
    document:
      'query Case($p: Personnummer!) { person(personnummer: $p) { name { givenName familyName } registeredAddress { city } taxedIncome { year earnedIncome } benefits { benefit amount } studentAid { grant loan } jobSeeker { status } } }',
    variables: (p) => ({ p }),
  },
  {
    agency: 'malmo-stad',
    document: 'query Household($p: Personnummer!) { person(personnummer: $p) { name { givenName } household { personnummer name { givenName } } studentAid { grant } } }',
    variables: (p) => ({ p }),
  },
  {
    agency: 'forsakringskassan',
    document: 'query Income($p: [Personnummer!]!) { persons(personnummer: $p) { personnummer taxedIncome { year earnedIncome } jobSeeker { status } } }',
    variables: (p) => ({ p: [p] }),
  },
];

function say(message: string): void {
  process.stdout.write(`[soak] ${message}\n`);
}

async function main(): Promise<void> {
  const env = loadSoakConfig(process.env);
  const seconds = env.seconds;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'exchange-soak-'));
  say(`working in ${dir}`);
  const exchange = await startExchangeProcesses({
    dir,
    persons: env.persons,
    seed: 3,
    gatewayEnv: {
      // The killed subgraph fails fast and is tried again soon after it is back.
      SUBGRAPH_TIMEOUT_MS: '2000',
      SUBGRAPH_BREAKER_RESET_MS: '1000',
      RATE_LIMIT_ENABLED: 'false',
      AUDIT_CHAIN_ID: 'soak-gateway',
    },
  });
  const { certsDir, dataDir, gateway, gatewayUrl, subgraphs, keyEnv } = exchange;
  const sample = samplePersons(dataDir, 40);
  const subjects = [sample.withBenefits, sample.withStudentAid, sample.jobSeeker, ...sample.household, ...sample.persons];
  say(`gateway ready at ${gatewayUrl}; load for ${seconds} s with ${env.concurrency} workers`);

  const apiSchema = buildSchema(readFileSync(DEFAULT_API_SCHEMA_PATH, 'utf8'));
  const catalogue = readPersonalFieldCatalogue(readFileSync(DEFAULT_SUPERGRAPH_PATH, 'utf8'));
  const clients = new Map<string, AgencyClient>();
  const clientFor = (agency: string) => {
    let client = clients.get(agency);
    if (!client) {
      client = createAgencyClient({
        certPath: path.join(certsDir, 'agencies', `${agency}.crt`),
        keyPath: path.join(certsDir, 'agencies', `${agency}.key`),
        caPath: path.join(certsDir, 'ca.crt'),
        gatewayUrl,
        official: `soak-${agency}`,
        purpose: 'CASE_HANDLING',
        caseId: 'SOAK',
        subjects,
      });
      clients.set(agency, client);
    }
    return client;
  };

  const expected = new Map<string, number>();
  const stats = { requests: 0, complete: 0, partial: 0, logUnavailable: 0, otherStatus: new Map<string, number>(), transportErrors: 0, released: 0 };
  let stopping = false;
  let counter = 0;
  const started = Date.now();
  const worker = async (w: number) => {
    while (!stopping) {
      const n = counter++;
      const workload = WORKLOADS[n % WORKLOADS.length]!;
      const subject = subjects[(n * 7 + w) % subjects.length]!;
      const caseId = `SOAK-${n}`;
      const variables = workload.variables(subject);
      stats.requests++;
      try {
        const response = await clientFor(workload.agency).query(workload.document, variables, { caseId });
        const codes = (response.errors ?? []).map((e) => e.extensions?.['code']);
        // Household members outside the case are withheld field by field (SUBJECT_NOT_IN_CASE): an ordinary answer.
        const unavailable = codes.filter((c) => c !== 'SUBJECT_NOT_IN_CASE' && c !== 'PROTECTED_IDENTITY');
        if (response.status === 200 && unavailable.length === 0) stats.complete++;
        else if (response.status === 200 && unavailable.every((c) => c === 'AGENCY_UNAVAILABLE')) stats.partial++;
        else if (response.status === 503 && codes.includes('ACCESS_LOG_UNAVAILABLE')) stats.logUnavailable++;
        else {
          const key = `${response.status} ${codes.join(',')}`;
          stats.otherStatus.set(key, (stats.otherStatus.get(key) ?? 0) + 1);
        }
        const released = countReleasedPersonalValues({
          schema: apiSchema,
          catalogue,
          document: workload.document,
          variables,
          caseSubjects: subjects,
          data: response.data as Record<string, unknown> | null | undefined,
          errors: response.errors,
        });
        stats.released += released;
        expected.set(caseId, released);
      } catch (error) {
        // An answer the auditor cannot count is a failed soak, never a request that released nothing.
        if (error instanceof UncountableResponseError) throw error;
        // The gateway shutting down refuses connections; nothing was released to this request.
        stats.transportErrors++;
        expected.set(caseId, 0);
        if (!stopping) await sleep(50);
      }
    }
  };
  const workers = Array.from({ length: env.concurrency }, (_, w) => worker(w));
  const at = async (fraction: number) => {
    const wait = started + fraction * seconds * 1000 - Date.now();
    if (wait > 0) await sleep(wait);
  };
  const progress = setInterval(
    () =>
      say(
        `${Math.round((Date.now() - started) / 1000)} s: ${stats.requests} requests, ${stats.complete} complete, ${stats.partial} partial, ${stats.logUnavailable} log-unavailable, ${stats.transportErrors} transport errors`,
      ),
    10_000,
  );

  await at(0.15);
  say('killing the csn subgraph (SIGKILL)');
  subgraphs.get('csn')!.child.kill('SIGKILL');
  await at(0.3);
  say('starting the csn subgraph again');
  const restarted = exchange.startSubgraph('csn');
  subgraphs.set('csn', restarted);
  await restarted.ready;
  await at(0.5);
  say('pausing the log store for 4 s (another connection holds the write lock)');
  const blocker = new Database(path.join(dataDir, 'access-log.db'));
  blocker.exec('BEGIN IMMEDIATE');
  await sleep(4000);
  blocker.exec('COMMIT');
  blocker.close();
  say('log store resumed');
  await at(0.9);
  say('SIGTERM to the gateway while the load runs');
  const exited = new Promise<number | null>((resolve) => gateway.child.once('exit', (code) => resolve(code)));
  gateway.child.kill('SIGTERM');
  const exitCode = await exited;
  stopping = true;
  await Promise.all(workers);
  clearInterval(progress);
  await Promise.all([...clients.values()].map((c) => c.close()));
  await Promise.all([...subgraphs.values()].map((s) => s.stop()));

  const accessLogConfig = loadAccessLogConfig({ DATA_DIR: dataDir, ...keyEnv });
  const store = new SqliteAccessLogStore({ file: accessLogConfig.sqliteFile });
  const logged = new Map((await store.countBy('caseId', { outcome: 'released' })).map((row) => [row.key, row.count]));
  let lost = 0;
  let extra = 0;
  for (const caseId of new Set([...expected.keys(), ...logged.keys()])) {
    const difference = (expected.get(caseId) ?? 0) - (logged.get(caseId) ?? 0);
    if (difference > 0) lost += difference;
    else extra -= difference;
  }
  const loggedTotal = [...logged.values()].reduce((a, b) => a + b, 0);
  const verification = await verifyAccessLog(store, [(await loadSigningKey(accessLogConfig.signingKeyPath)).publicJwk]);
  await store.close();

  say('---- result ----');
  say(
    `requests ${stats.requests}: ${stats.complete} complete (fields of persons outside the case withheld), ${stats.partial} partial (AGENCY_UNAVAILABLE), ${stats.logUnavailable} refused while the log was paused (503), ${stats.transportErrors} transport errors (gateway shut down)`,
  );
  if (stats.otherStatus.size > 0) say(`other answers: ${JSON.stringify(Object.fromEntries(stats.otherStatus))}`);
  say(`gateway exit code after SIGTERM: ${exitCode}`);
  say(`personal values released to partners: ${stats.released}; released entries in the log: ${loggedTotal}`);
  say(`lost entries (released without an entry): ${lost}; entries without a release: ${extra}`);
  say(`hash chain: ${verification.ok ? 'verified' : `BROKEN at ${JSON.stringify(verification.firstBreak)}`}`);
  if (!env.keepDir) rmSync(dir, { recursive: true, force: true });
  const failed = lost > 0 || !verification.ok || exitCode !== 0 || stats.otherStatus.size > 0;
  say(failed ? 'FAILED' : 'PASSED');
  process.exit(failed ? 1 : 0);
}

main().catch((error: unknown) => {
  console.error(error instanceof ConfigError ? error.message : `soak failed: ${(error as Error).stack ?? error}`);
  process.exit(1);
});
