/**
 * CPU time of the access log's write path on the event loop, by stage, without a store: what
 * record() and the writer's batch building cost per entry, apart from the commit and the machine's
 * noise in entries/s.
 *
 *   npx tsx bench/accessLogStages.ts [--entries 5] [--records 128] [--batches 200]
 *
 * Stages, per batch of `records` requests of `entries` entries (bench/syntheticEntries.ts):
 * validation and drafting (subjects encrypted, item texts and bodies), chaining (record hashes),
 * the tree (entry commitments, leaves, nodes), and the hand-off to the SQLite writer thread (its
 * rows and a structured clone of them, as postMessage makes). Process CPU time, after one unmeasured pass.
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { validateAccessLogEntries } from '../src/audit/entry.js';
import { chainRecords, genesisHead } from '../src/audit/hashChain.js';
import { growTree, type TreeFrontier } from '../src/audit/logTree.js';
import { draftEntries, recordSubjects } from '../src/audit/record.js';
import { recordRow } from '../src/audit/store/sql.js';
import { parseSubjectKeys, protectSubject } from '../src/audit/subjectProtection.js';
import { meanSubjectsPerRequest, requestEntries } from './syntheticEntries.js';

const { values } = parseArgs({
  options: { entries: { type: 'string', default: '5' }, records: { type: 'string', default: '128' }, batches: { type: 'string', default: '200' } },
});
const entries = Number(values.entries);
const records = Number(values.records);
const batches = Number(values.batches);
const keys = parseSubjectKeys({ subjectEncryptionKey: randomBytes(32).toString('base64'), subjectHmacKey: randomBytes(32).toString('base64') });

const STAGES = ['draft', 'chain', 'tree', 'handOff'] as const;
const spent: Record<(typeof STAGES)[number], number> = { draft: 0, chain: 0, tree: 0, handOff: 0 };
let head = genesisHead('stages');
let tree: TreeFrontier = { size: 0, nodes: [] };
let request = 0;
let measured = 0;
const cpu = () => {
  const usage = process.cpuUsage();
  return usage.user + usage.system;
};

function pass(measure: boolean): void {
  for (let b = 0; b < batches; b++) {
    const calls = Array.from({ length: records }, () => requestEntries(`r-${request}`, entries, request++));
    let t = cpu();
    const lap = (stage: (typeof STAGES)[number]) => {
      const now = cpu();
      if (measure) spent[stage] += now - t;
      t = now;
    };
    const drafts = calls.flatMap((call) => {
      validateAccessLogEntries(call);
      return draftEntries(call, (subject) => protectSubject(keys, subject));
    });
    lap('draft');
    const chained = chainRecords(head, drafts);
    head = chained.head;
    lap('chain');
    const grown = growTree(tree, chained.records);
    tree = grown.frontier;
    lap('tree');
    const subjects: Array<string | number> = [];
    for (const record of chained.records) for (const subject of recordSubjects(record.items)) subjects.push(subject, record.header.time, record.chainId, record.lastSeq);
    structuredClone({
      rows: chained.records.flatMap(recordRow),
      subjects,
      tree: { levels: grown.nodes.map((node) => node.level), indices: grown.nodes.map((node) => node.index), hashes: Buffer.concat(grown.nodes.map((node) => node.hash)) },
    });
    lap('handOff');
    if (measure) measured += records * entries;
  }
}

pass(false);
pass(true);
const perEntry = (µs: number) => (µs / measured).toFixed(2);
const total = STAGES.reduce((sum, stage) => sum + spent[stage], 0);
console.log(
  `${entries} entries about ${meanSubjectsPerRequest(entries)} persons per request, ${records} requests per batch: µs of CPU per entry: ` +
    `${STAGES.map((stage) => `${stage} ${perEntry(spent[stage])}`).join(', ')}; total ${perEntry(total)}`,
);
