import { parse, type GraphQLFieldResolver } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commonSdl } from '../../src/subgraph-kit/loadSdl.js';
import { serveSubgraph, type RunningSubgraph } from '../../src/subgraph-kit/serveSubgraph.js';
import type { AgencySubgraph } from '../../src/subgraph-kit/types.js';

/**
 * What a kit subgraph's answer carries besides its data. A subgraph answers personal data, so no
 * cache between it and the gateway may keep the answer (`cache-control: no-store`); and the
 * agency's resolvers are called as the agency wrote them, without Apollo Server's per-field
 * hook around each call, which only the cache hints' plugin needed and which cost about a tenth
 * of a call's CPU (docs/performance.md).
 */
const wrappedCalls: string[] = [];
const items = Array.from({ length: 3 }, (_, i) => ({ id: String(i), label: `item ${i}` }));
const label: GraphQLFieldResolver<{ label: string }, unknown> = (source, _args, _context, info) => {
  // The resolver the schema holds for this field is this function itself unless something wrapped it.
  if (info.parentType.getFields()[info.fieldName]?.resolve !== label) wrappedCalls.push(`${info.parentType.name}.${info.fieldName}`);
  return source.label;
};

let running: RunningSubgraph;

beforeAll(async () => {
  const subgraph: AgencySubgraph = {
    name: 'kommunen',
    typeDefs: parse(`${commonSdl()}\ntype Item { id: ID! label: String }\ntype Query { items: [Item!]! }`),
    resolvers: { Query: { items: () => items }, Item: { label } } as never,
    createLoaders: () => ({}),
    queryCount: () => 0,
    close: () => undefined,
  };
  running = await serveSubgraph(subgraph, { port: 0, allowPlainHttp: true, allowAnonymous: true });
});

afterAll(async () => {
  await running?.close();
});

const ask = (query: string) => fetch(running.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query }) });

describe("a kit subgraph's answer", () => {
  it('is marked never to be cached, answered with data or refused with errors', async () => {
    const answered = await ask('{ items { id label } }');
    expect(answered.status).toBe(200);
    expect(answered.headers.get('cache-control')).toBe('no-store');
    expect(((await answered.json()) as { data: unknown }).data).toEqual({ items: items.map(({ id, label }) => ({ id, label })) });

    const refused = await ask('{ items { nothing } }');
    expect(refused.status).toBe(400);
    expect(refused.headers.get('cache-control')).toBe('no-store');
  });

  it("runs the agency's resolvers as written, with no per-field hook around them", async () => {
    wrappedCalls.length = 0;
    const answered = await ask('{ items { label } }');
    expect(answered.status).toBe(200);
    expect(((await answered.json()) as { data: { items: unknown[] } }).data.items).toHaveLength(items.length);
    expect(wrappedCalls).toEqual([]);
  });
});
