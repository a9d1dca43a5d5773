import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadAccessLogConfig } from '../../src/config/accessLogConfig.js';
import { loadSigningKey, openAccessLogStore } from '../../src/audit/openAccessLog.js';
import { verifyAccessLog } from '../../src/audit/verify.js';
import { REPO_ROOT } from '../../src/config/paths.js';
import { createAgencyClient } from '../../src/client/index.js';
import { startStack, type Stack } from '../support/stack.js';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ persons: 400 });
});
afterAll(async () => {
  await stack?.close();
});

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

function gatewayEnv(port: number): NodeJS.ProcessEnv {
  return {
    ...process.env,
    GATEWAY_PORT: String(port),
    CERTS_DIR: stack.certsDir,
    DATA_DIR: path.join(stack.dir, 'crash-gateway'),
    SUBGRAPH_URLS: [...stack.subgraphs.values()].map((s) => `${s.name}=${s.url}`).join(','),
    AUDIT_CHAIN_ID: 'crash-gateway',
    AUDIT_CHECKPOINT_EVERY: '50',
    // Ad hoc documents: in production mode serveGateway runs only trusted (registered) documents.
    GATEWAY_MODE: 'development',
  };
}

async function startGatewayProcess(port: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/serveGateway.ts'], { cwd: REPO_ROOT, env: gatewayEnv(port), stdio: ['ignore', 'pipe', 'pipe'] });
  const stderr: string[] = [];
  createInterface({ input: child.stderr! }).on('line', (line) => stderr.push(line));
  await new Promise<void>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (line.includes('gateway ready')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`gateway exited with ${code}: ${stderr.join('\n')}`)));
  });
  return child;
}

it('after kill -9 every response a client received has its entries, and the log verifies', async () => {
  const port = await freePort();
  let gateway = await startGatewayProcess(port);
  const subjects = [...stack.sample.persons.slice(0, 5)];
  const client = createAgencyClient({
    certPath: path.join(stack.certsDir, 'agencies', 'malmo-stad.crt'),
    keyPath: path.join(stack.certsDir, 'agencies', 'malmo-stad.key'),
    caPath: path.join(stack.certsDir, 'ca.crt'),
    gatewayUrl: `https://localhost:${port}/graphql`,
    official: 'tjm-crash',
    purpose: 'CASE_HANDLING',
    caseId: 'CRASH-1',
    subjects,
  });
  // requestId → number of personal values the client received in that response.
  const received = new Map<string, number>();
  let killed = false;
  const failures: string[] = [];
  const worker = async (index: number) => {
    while (!killed) {
      const p = subjects[index % subjects.length];
      try {
        const response = await client.query<{ person: { name: unknown; taxedIncome: unknown } | null }>(
          'query ($p: Personnummer!) { person(personnummer: $p) { personnummer name { givenName } taxedIncome { year } } }',
          { p },
        );
        if (response.status === 200 && response.data?.person) received.set(String(response.extensions?.['requestId']), 2);
        else failures.push(`${response.status} ${JSON.stringify(response.errors?.map((e) => e.extensions?.['code']))}`);
      } catch (error) {
        // After the kill the connection dies with the gateway: nothing was received. Before it, say why.
        if (!killed) failures.push(`request failed: ${(error as Error).message}`);
      }
    }
  };
  const workers = [0, 1, 2, 3].map(worker);
  while (received.size < 60) {
    if (failures.length > 20) throw new Error(`requests fail before the crash: ${failures.slice(0, 3).join('; ')}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  // Listen before killing: the exit can come before the workers finish.
  const crashed = new Promise((resolve) => gateway.once('exit', resolve));
  gateway.kill('SIGKILL');
  killed = true;
  await Promise.all(workers);
  await client.close();
  await crashed;

  // The gateway starts again on the same log after the crash.
  gateway = await startGatewayProcess(port);
  const stopped = new Promise((resolve) => gateway.once('exit', resolve));
  gateway.kill('SIGTERM');
  await stopped;

  const config = loadAccessLogConfig(gatewayEnv(port));
  const store = await openAccessLogStore(config);
  try {
    const perRequest = new Map<string, number>();
    let cursor: string | null = null;
    do {
      const page = await store.query({ caseId: 'CRASH-1', outcome: 'released' }, cursor, 500);
      for (const entry of page.entries) perRequest.set(entry.requestId, (perRequest.get(entry.requestId) ?? 0) + 1);
      cursor = page.nextCursor;
    } while (cursor);
    for (const [requestId, values] of received) expect(perRequest.get(requestId), requestId).toBe(values);
    const { publicJwk } = await loadSigningKey(config.signingKeyPath);
    const report = await verifyAccessLog(store, [publicJwk]);
    expect(report.firstBreak).toBeNull();
    expect(report.ok).toBe(true);
  } finally {
    await store.close();
  }
});
