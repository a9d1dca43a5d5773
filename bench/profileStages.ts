/**
 * `npx tsx bench/profileStages.ts <file.cpuprofile> <requests>`: a contender's CPU per request by
 * stage, from a V8 CPU profile the bench wrote (BENCH_CPU_PROF, docs/performance.md). Start-up is
 * left out: samples count from the first one inside the request handler. Each sample goes to the
 * first stage (in the order below) any frame of its stack belongs to, so a stage includes what it
 * calls synchronously; work resumed after an `await` is counted where it resumes. A thread's
 * profile without a request handler (the access log's writer) counts every busy sample. `requests` is
 * how many requests the process answered in that time (the bench's counted rounds, warm-up and
 * checks included).
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string };
  readonly children?: readonly number[];
}
interface Profile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

type Frame = ProfileNode['callFrame'];
const STAGES: readonly (readonly [string, (frame: Frame) => boolean])[] = [
  ['garbage collection', (f) => f.functionName === '(garbage collector)'],
  ['access log: entries, chain, hand-off to the writer thread', (f) => f.url.includes('/src/audit/')],
  ['context token per subgraph call (ES256)', (f) => f.url.includes('/src/gateway/contextSigner') || f.functionName === 'signGatewayContext'],
  ['identity: certificate, request token, replay cache', (f) => f.url.includes('/src/identity/') || f.url.includes('/src/pipeline/identifyRequest')],
  ['admission: rate limits', (f) => f.url.includes('/src/limits/')],
  ['result shaping (Apollo computeResponse)', (f) => f.functionName === 'computeResponse'],
  ['operation: variables, checks', (f) => /\/src\/(checks|policy|pipeline)\//.test(f.url) || f.functionName === 'resolveAndCheck'],
  [
    'subgraph calls: HTTP client, JSON',
    (f) =>
      f.url.includes('/src/apollo/agencyDataSource') ||
      f.url.includes('/src/apollo/subgraphTransport') ||
      /node_modules\/(undici|node-fetch)\//.test(f.url) ||
      f.url.includes('RemoteGraphQLDataSource'),
  ],
  ['plan execution (Apollo executor)', (f) => /node_modules\/@apollo\/(gateway|federation-internals|query-planner)\//.test(f.url)],
  ['Apollo Server request pipeline', (f) => /node_modules\/(@apollo\/server|negotiator)\//.test(f.url)],
  ['compiled path and HTTP bridge', (f) => f.url.includes('/src/apollo/') || f.url.includes('/src/http/')],
  ['metrics, logs, traces', (f) => f.url.includes('/src/observability/') || /node_modules\/(prom-client|pino|@opentelemetry)\//.test(f.url)],
  ['HTTPS in and out (Node)', (f) => /^node:(_http|_tls|net|internal\/(streams|stream_base|http|tls|crypto\/x509))/.test(f.url) || f.functionName === 'writev' || f.functionName === 'writeUtf8String'],
];

const [file, requestsArgument] = process.argv.slice(2);
if (!file || !requestsArgument) {
  console.error('usage: npx tsx bench/profileStages.ts <file.cpuprofile> <requests>');
  process.exit(2);
}
const requests = Number(requestsArgument);
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
const parents = new Map<number, number>();
for (const node of profile.nodes) for (const child of node.children ?? []) parents.set(child, node.id);
const stackOf = (id: number): Frame[] => {
  const frames: Frame[] = [];
  for (let at: number | undefined = id; at !== undefined; at = parents.get(at)) frames.push(nodes.get(at)!.callFrame);
  return frames;
};

const totals = new Map<string, number>();
const handles = (id: number) => stackOf(id).some((f) => f.url.includes('/src/apollo/requestHandler'));
let started = !profile.samples.some(handles);
let busy = 0;
profile.samples.forEach((id, index) => {
  const stack = stackOf(id);
  started ||= handles(id);
  const leaf = stack[0]!;
  if (!started || leaf.functionName === '(idle)' || leaf.functionName === '(program)') return;
  const micros = profile.timeDeltas[index] ?? 0;
  busy += micros;
  const stage = STAGES.find(([, belongs]) => stack.some(belongs))?.[0] ?? 'other';
  totals.set(stage, (totals.get(stage) ?? 0) + micros);
});

console.log(`| stage | µs per request | share |\n| --- | ---: | ---: |`);
for (const [stage, micros] of [...totals].sort((a, b) => b[1] - a[1])) {
  console.log(`| ${stage} | ${(micros / requests).toFixed(0)} | ${((100 * micros) / busy).toFixed(0)}% |`);
}
console.log(`| all (after start-up) | ${(busy / requests).toFixed(0)} | 100% |`);
