/**
 * Contender "fan-out limit": no gateway at all. This process asks the subgraphs itself, as a
 * gateway's query plan would (Skatteverket first, then Försäkringskassan, CSN and Arbetsförmedlingen
 * in parallel for the persons it returned), over the same mutual-TLS undici transport with the
 * gateway's client certificate and a context token signed at start-up. It runs its own closed
 * loop, on the core a gateway would have, when the orchestrator tells it to (IPC).
 */
import { readFileSync } from 'node:fs';
import { Agent, request } from 'undici';
import { loadGatewayConfig } from '../src/config/gatewayConfig.js';
import { loadIdentityConfig } from '../src/config/identityConfig.js';
import { readBenchCases, staticContextTokens } from './contextTokens.js';
import { ENTITY_FIELDS } from './workloads.js';

export type FanOutMessage = {
  readonly type: 'check' | 'run';
  readonly workload: string;
  readonly query: string;
  readonly variables: Record<string, unknown>;
  readonly seconds?: number;
  readonly concurrency?: number;
};
export type FanOutReply =
  | { readonly type: 'checked'; readonly problems: string[]; readonly persons: number }
  | { readonly type: 'result'; readonly requests: number; readonly seconds: number; readonly failures: number; readonly latenciesMs: number[] };

const config = loadGatewayConfig();
const identity = loadIdentityConfig();
const tokens = await staticContextTokens(identity.gatewaySigningKeyPath, readBenchCases());
const agent = new Agent({
  connections: 64,
  keepAliveTimeout: 30_000,
  connect: { ca: readFileSync(identity.trust.caPath), cert: readFileSync(identity.subgraphClient.certPath), key: readFileSync(identity.subgraphClient.keyPath) },
});
const urlOf = (subgraph: string) => {
  const url = config.subgraphUrlOverrides.get(subgraph);
  if (!url) throw new Error(`SUBGRAPH_URLS has no ${subgraph}`);
  return url;
};

interface SubgraphAnswer {
  data?: Record<string, unknown> | null;
  errors?: unknown[];
}

async function call(subgraph: string, workload: string, query: string, variables: Record<string, unknown>): Promise<SubgraphAnswer> {
  const response = await request(urlOf(subgraph), {
    method: 'POST',
    dispatcher: agent,
    headers: { 'content-type': 'application/json', authorization: tokens.authorization(workload, subgraph) ?? '' },
    body: JSON.stringify({ query, variables }),
  });
  const answer = (await response.body.json()) as SubgraphAnswer;
  if (response.statusCode !== 200) throw new Error(`${subgraph} answered HTTP ${response.statusCode}`);
  return answer;
}

function personnummerIn(value: unknown, found: string[] = []): string[] {
  if (Array.isArray(value)) for (const v of value) personnummerIn(v, found);
  else if (value && typeof value === 'object') {
    const p = (value as Record<string, unknown>)['personnummer'];
    if (typeof p === 'string') found.push(p);
    for (const v of Object.values(value)) if (v && typeof v === 'object') personnummerIn(v, found);
  }
  return found;
}

/** One workload's worth of subgraph calls; returns the problems seen and how many persons were read. */
async function once(message: FanOutMessage): Promise<{ problems: string[]; persons: number }> {
  const problems: string[] = [];
  const first = await call('skatteverket', message.workload, message.query, message.variables);
  if (first.errors?.length) problems.push('skatteverket answered with errors');
  const representations = personnummerIn(first.data).map((personnummer) => ({ __typename: 'Person', personnummer }));
  const rest = await Promise.all(
    Object.entries(ENTITY_FIELDS).map(async ([subgraph, fields]) => {
      const answer = await call(subgraph, message.workload, `query ($r: [_Any!]!) { _entities(representations: $r) { ... on Person { ${fields} } } }`, { r: representations });
      const entities = answer.data?.['_entities'];
      if (answer.errors?.length) problems.push(`${subgraph} answered with errors`);
      if (!Array.isArray(entities) || entities.length !== representations.length) problems.push(`${subgraph} returned the wrong number of persons`);
      return answer;
    }),
  );
  void rest;
  return { problems, persons: representations.length };
}

process.on('message', (raw) => {
  const message = raw as FanOutMessage;
  void (async () => {
    if (message.type === 'check') {
      const { problems, persons } = await once(message).catch((error: unknown) => ({ problems: [(error as Error).message], persons: 0 }));
      process.send!({ type: 'checked', problems, persons } satisfies FanOutReply);
      return;
    }
    const latenciesMs: number[] = [];
    let failures = 0;
    const started = performance.now();
    const deadline = started + (message.seconds ?? 1) * 1000;
    await Promise.all(
      Array.from({ length: message.concurrency ?? 1 }, async () => {
        while (performance.now() < deadline) {
          const t0 = performance.now();
          try {
            if ((await once(message)).problems.length > 0) failures += 1;
          } catch {
            failures += 1;
          }
          latenciesMs.push(performance.now() - t0);
        }
      }),
    );
    process.send!({ type: 'result', requests: latenciesMs.length, seconds: (performance.now() - started) / 1000, failures, latenciesMs } satisfies FanOutReply);
  })();
});
process.on('SIGTERM', () => {
  tokens.close();
  void agent.close().finally(() => process.exit(0));
});
console.log(JSON.stringify({ msg: 'fan-out client ready' }));
