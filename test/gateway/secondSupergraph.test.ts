import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'graphql';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { composeSupergraph } from '../../src/apollo/composeSupergraph.js';
import { loadGatewayConfig } from '../../src/config/gatewayConfig.js';
import { createGateway, type RunningGateway } from '../../src/createGateway.js';
import { createAgencyClient } from '../../src/client/index.js';
import { serveSubgraph, type RunningSubgraph } from '../../src/subgraph-kit/serveSubgraph.js';
import type { AgencySubgraph } from '../../src/subgraph-kit/types.js';
import { kitServerOptions, startStack, type Stack } from '../support/stack.js';

// A supergraph that has nothing to do with ours: the gateway is a general Federation 2 gateway.
const LINK = 'extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])';
const BOOKS = `${LINK}
type Query { books: [Book!]! }
type Book @key(fields: "isbn") { isbn: ID! title: String! }`;
const REVIEWS = `${LINK}
type Book @key(fields: "isbn") { isbn: ID! reviews: [Review!]! }
type Review { stars: Int! }`;

function tinySubgraph(name: string, sdl: string, resolvers: Record<string, unknown>): AgencySubgraph {
  let queries = 0;
  return {
    name,
    typeDefs: parse(sdl),
    resolvers: resolvers as AgencySubgraph['resolvers'],
    createLoaders: () => ({}),
    queryCount: () => queries++,
    close: () => undefined,
  };
}

let stack: Stack;
let gateway: RunningGateway;
const subgraphs: RunningSubgraph[] = [];

beforeAll(async () => {
  stack = await startStack({ persons: 200 });
  const { tls, gatewayPublicKey } = await kitServerOptions(stack);
  const books = [
    { isbn: '978-91-0-012345-1', title: 'Röda rummet' },
    { isbn: '978-91-0-012346-8', title: 'Hemsöborna' },
  ];
  subgraphs.push(
    await serveSubgraph(tinySubgraph('books', BOOKS, { Query: { books: () => books }, Book: { __resolveReference: (ref: { isbn: string }) => books.find((b) => b.isbn === ref.isbn) } }), {
      port: 0,
      tls,
      gatewayPublicKey,
    }),
    await serveSubgraph(tinySubgraph('reviews', REVIEWS, { Book: { reviews: (book: { isbn: string }) => (book.isbn.endsWith('1') ? [{ stars: 5 }, { stars: 4 }] : []) } }), {
      port: 0,
      tls,
      gatewayPublicKey,
    }),
  );
  const composed = composeSupergraph(subgraphs.map((s) => ({ name: s.name, url: s.url, sdl: s.name === 'books' ? BOOKS : REVIEWS })));
  const supergraphPath = path.join(stack.dir, 'books-supergraph.graphql');
  writeFileSync(supergraphPath, composed.supergraphSdl);
  gateway = await createGateway(loadGatewayConfig({ GATEWAY_PORT: '0', SUPERGRAPH_PATH: supergraphPath }), stack.deps);
});

afterAll(async () => {
  await gateway?.close();
  await Promise.all(subgraphs.map((s) => s.close()));
  await stack?.close();
});

it('runs any valid Federation 2 supergraph, joining entities across its subgraphs', async () => {
  const client = createAgencyClient({
    certPath: path.join(stack.certsDir, 'agencies', 'csn.crt'),
    keyPath: path.join(stack.certsDir, 'agencies', 'csn.key'),
    caPath: path.join(stack.certsDir, 'ca.crt'),
    gatewayUrl: gateway.url,
    official: 'bibliotekarie-1',
    purpose: 'STATISTICS',
    caseId: 'LIB-1',
    subjects: [stack.sample.withBenefits],
  });
  try {
    const response = await client.query('{ books { title reviews { stars } } }');
    expect(response.errors).toBeUndefined();
    expect(response.data).toEqual({
      books: [
        { title: 'Röda rummet', reviews: [{ stars: 5 }, { stars: 4 }] },
        { title: 'Hemsöborna', reviews: [] },
      ],
    });
  } finally {
    await client.close();
  }
});
