import { generateKeyPair } from 'jose';
import { parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import { UndeclaredPersonalFieldError } from '../../src/policy/personalFieldCatalogue.js';
import { commonSdl } from '../../src/subgraph-kit/loadSdl.js';
import { serveSubgraph } from '../../src/subgraph-kit/serveSubgraph.js';
import type { AgencySubgraph } from '../../src/subgraph-kit/types.js';

/**
 * Personal by default holds in the subgraph as in the supergraph. Composition takes a field's
 * @personal from whichever subgraph declares it, so a subgraph that resolves the same field
 * undeclared (an @external field it serves through @provides, a @shareable field another
 * subgraph declares) passes composition and the gateway's check, while the kit's guard, which
 * wraps only the subgraph's own declarations, would release it for persons outside the case.
 * The kit refuses such a subgraph at start-up, naming the field.
 */
const SUBGRAPHS: ReadonlyArray<readonly [form: string, sdl: string, coordinate: string]> = [
  [
    'an @external field it serves through @provides',
    `type Case @key(fields: "caseNumber") { caseNumber: ID! applicant: Resident @provides(fields: "name") }
     type Resident @key(fields: "personnummer", resolvable: false) { personnummer: Personnummer! name: String @external }
     type Query { case(caseNumber: ID!): Case }`,
    'Resident.name',
  ],
  [
    'a @shareable field another subgraph declares',
    `type Resident @key(fields: "personnummer") { personnummer: Personnummer! name: String @shareable studentAid: Int @personal(category: BENEFITS, purposes: [CASE_HANDLING]) }
     type Query { enrolled: [Resident!]! }`,
    'Resident.name',
  ],
];

describe('the subgraph kit, personal by default', () => {
  for (const [form, sdl, coordinate] of SUBGRAPHS) {
    it(`refuses to serve a data subject's undeclared field: ${form}`, async () => {
      const subgraph: AgencySubgraph = {
        name: 'kommunen',
        typeDefs: parse(`${commonSdl()}\n${sdl}`),
        resolvers: {},
        createLoaders: () => ({}),
        queryCount: () => 0,
        close: () => undefined,
      };
      const { publicKey } = await generateKeyPair('ES256');
      let thrown: unknown;
      try {
        const running = await serveSubgraph(subgraph, { port: 0, allowPlainHttp: true, gatewayPublicKey: publicKey });
        await running.close();
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(UndeclaredPersonalFieldError);
      expect((thrown as UndeclaredPersonalFieldError).coordinates).toEqual([coordinate]);
    });
  }
});
