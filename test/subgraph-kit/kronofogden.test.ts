import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { composeServices } from '@apollo/composition';
import { parse } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { composeSupergraph, CompositionError } from '../../src/apollo/composeSupergraph.js';
import { referenceSubgraphSources } from '../../src/composition/referenceSubgraphs.js';
import { loadGatewayConfig } from '../../src/config/gatewayConfig.js';
import { createGateway, type RunningGateway } from '../../src/createGateway.js';
import { createAgencyClient } from '../../src/client/index.js';
import { readGatewayPublicKey } from '../../src/identity/index.js';
import { readCertificateAuthority } from '../../src/identity/pki/certificateAuthorityFiles.js';
import { federationFiles, GATEWAY_CLIENT_NAME } from '../../src/identity/pki/federationFiles.js';
import { commonNameSubject, issueCertificate, validityFor } from '../../src/identity/pki/issueCertificate.js';
import { parseAgreements } from '../../src/policy/agreements.js';
import { readPersonalFieldCatalogue, UndeclaredPersonalFieldError } from '../../src/policy/personalFieldCatalogue.js';
import { subgraphSdlSource } from '../../src/subgraph-kit/loadSdl.js';
import { serveSubgraph, type RunningSubgraph } from '../../src/subgraph-kit/serveSubgraph.js';
import { createKronofogdenSubgraph, KRONOFOGDEN_SDL_PATH, UNDECLARED_SDL_PATH } from '../fixtures/kronofogden/index.js';
import { writeKronofogdenStore } from '../fixtures/kronofogden/store.js';
import { startStack, type Stack } from '../support/stack.js';

// docs/subgraph-kit.md followed for an agency's subgraph built outside this repository: a
// minimal Kronofogden built from the kit alone (test/fixtures/kronofogden), composed in place of
// the reference one (resolvers/kronofogden) and queried through a gateway like any other.
const KRONOFOGDEN_AGREEMENT = parseAgreements(
  {
    agreements: [
      {
        id: 'AGR-MALMO-KFM-FIXTURE',
        client: 'malmo-stad',
        owner: 'kronofogden',
        categories: ['DEBT'],
        purposes: ['CASE_HANDLING'],
        legalBasis: '11 kap. 11 § socialtjänstlagen (2001:453)',
        processingRegister: { recordId: 'MALMO-SOC-FR-0142', version: 4 },
        validFrom: '2025-01-01',
        validUntil: '2029-12-31',
      },
    ],
  },
  'test',
);

/** The reference subgraphs without the reference Kronofogden, which the fixture stands in for. */
const othersThanKronofogden = () => referenceSubgraphSources('https').filter((source) => source.name !== 'kronofogden');

let stack: Stack;
let kronofogden: RunningSubgraph;
let gateway: RunningGateway;
let debtor: string;

beforeAll(async () => {
  stack = await startStack({ persons: 300 });
  debtor = stack.sample.persons[0]!;
  const dbPath = path.join(stack.dir, 'kronofogden.db');
  writeKronofogdenStore(dbPath, [
    { personnummer: debtor, kind: 'PUBLIC', amount: 1_234_500, registeredOn: '2024-03-01' },
    { personnummer: debtor, kind: 'PRIVATE', amount: 56_700, registeredOn: '2024-09-15' },
  ]);
  // The federation CA issues the agency's subgraph a server certificate; the subgraph accepts the
  // gateway's client certificate only and verifies the caller context with the gateway's public key.
  const files = federationFiles(stack.certsDir);
  const server = issueCertificate(readCertificateAuthority(files), {
    subject: commonNameSubject('kronofogden subgraph'),
    profile: { kind: 'server', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] },
    validity: validityFor(1),
  });
  kronofogden = await serveSubgraph(createKronofogdenSubgraph({ dbPath }), {
    port: 0,
    tls: {
      cert: server.certificatePem,
      key: server.keyPair.privateKeyPem,
      ca: readFileSync(files.caCertificate),
      gatewayClientCertificate: readFileSync(files.serverCertificate(GATEWAY_CLIENT_NAME).certificate),
    },
    gatewayPublicKey: await readGatewayPublicKey(files.gatewaySigningKey),
  });

  const composed = composeSupergraph([...othersThanKronofogden(), { name: 'kronofogden', sdl: subgraphSdlSource(KRONOFOGDEN_SDL_PATH), url: kronofogden.url }]);
  const supergraphPath = path.join(stack.dir, 'with-kronofogden.graphql');
  writeFileSync(supergraphPath, composed.supergraphSdl);
  const urls = [...[...stack.subgraphs.values()].filter((s) => s.name !== 'kronofogden'), kronofogden].map((s) => `${s.name}=${s.url}`).join(',');
  gateway = await createGateway(loadGatewayConfig({ GATEWAY_PORT: '0', SUPERGRAPH_PATH: supergraphPath, SUBGRAPH_URLS: urls }), {
    ...stack.deps,
    agreements: () => [...stack.deps.agreements(), ...KRONOFOGDEN_AGREEMENT],
  });
});

afterAll(async () => {
  await gateway?.close();
  await kronofogden?.close();
  await stack?.close();
});

function clientOf(agency: string, purpose: 'CASE_HANDLING' | 'PAYMENT_CONTROL') {
  return createAgencyClient({
    certPath: path.join(stack.certsDir, 'agencies', `${agency}.crt`),
    keyPath: path.join(stack.certsDir, 'agencies', `${agency}.key`),
    caPath: path.join(stack.certsDir, 'ca.crt'),
    gatewayUrl: gateway.url,
    official: 'handlaggare-9',
    purpose,
    caseId: 'SOC-2026-0099',
    subjects: [debtor],
  });
}

const QUERY = 'query ($p: Personnummer!) { person(personnummer: $p) { name { givenName } enforcementDebts { kind amount registeredOn } } }';

describe('a subgraph built from the kit', () => {
  it("joins its personal field with Skatteverket's through the gateway", async () => {
    const client = clientOf('malmo-stad', 'CASE_HANDLING');
    try {
      const response = await client.query(QUERY, { p: debtor });
      expect(response.errors).toBeUndefined();
      expect(response.data).toEqual({
        person: {
          name: { givenName: expect.any(String) },
          enforcementDebts: [
            { kind: 'PUBLIC', amount: 1_234_500, registeredOn: '2024-03-01' },
            { kind: 'PRIVATE', amount: 56_700, registeredOn: '2024-09-15' },
          ],
        },
      });
    } finally {
      await client.close();
    }
  });

  it('is purpose-checked like every other: no agreement, no debt data', async () => {
    const client = clientOf('forsakringskassan', 'PAYMENT_CONTROL');
    try {
      const response = await client.query(QUERY, { p: debtor });
      expect(response.status).toBe(403);
      expect(response.errors?.map((e) => [e.extensions?.['field'], e.extensions?.['code']])).toEqual([['Person.enforcementDebts', 'NO_AGREEMENT']]);
    } finally {
      await client.close();
    }
  });

  it('an undeclared personal field fails composition', () => {
    expect(() => composeSupergraph([...othersThanKronofogden(), { name: 'kronofogden', sdl: subgraphSdlSource(UNDECLARED_SDL_PATH), url: 'https://127.0.0.1:1/graphql' }])).toThrow(CompositionError);
  });

  it('an undeclared personal field fails gateway start-up, naming the field', async () => {
    const services = [...othersThanKronofogden(), { name: 'kronofogden', sdl: subgraphSdlSource(UNDECLARED_SDL_PATH), url: 'https://127.0.0.1:1/graphql' }];
    const result = composeServices(services.map((s) => ({ name: s.name, url: s.url, typeDefs: parse(s.sdl) })));
    expect(result.errors).toBeUndefined();
    const supergraphSdl = result.supergraphSdl!;
    let thrown: unknown;
    try {
      readPersonalFieldCatalogue(supergraphSdl);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(UndeclaredPersonalFieldError);
    expect((thrown as UndeclaredPersonalFieldError).coordinates).toEqual(['Person.inDebtRegister']);

    const supergraphPath = path.join(stack.dir, 'undeclared.graphql');
    writeFileSync(supergraphPath, supergraphSdl);
    await expect(createGateway(loadGatewayConfig({ GATEWAY_PORT: '0', SUPERGRAPH_PATH: supergraphPath }), stack.deps)).rejects.toBeInstanceOf(UndeclaredPersonalFieldError);
  });
});
