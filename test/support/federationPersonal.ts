import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { buildSchema, type GraphQLFormattedError, type GraphQLSchema } from 'graphql';
import { composeSupergraph } from '../../src/apollo/composeSupergraph.js';
import { loadGatewayConfig } from '../../src/config/gatewayConfig.js';
import { createGateway, type RunningGateway } from '../../src/createGateway.js';
import { createAgencyClient, type AgencyClient } from '../../src/client/index.js';
import type { RequestTokenClaims } from '../../src/client/mintRequestToken.js';
import type { CallerContext } from '../../src/identity/callerContext.js';
import { readAgencyRegistry } from '../../src/identity/index.js';
import { parseAgreements } from '../../src/policy/agreements.js';
import { readPersonalFieldCatalogue, type PersonalFieldCatalogue } from '../../src/policy/personalFieldCatalogue.js';
import { serveSubgraph, type RunningSubgraph } from '../../src/subgraph-kit/serveSubgraph.js';
import { GatewayMetrics } from '../../src/observability/metrics.js';
import { documentId, normalizeDocument } from '../../src/trusted-documents/documentId.js';
import { writeManifest } from '../../src/trusted-documents/manifest.js';
import { buildFixtureWorld, createFederationPersonalSubgraphs, federationPersonalSources, type FixtureWorld } from '../fixtures/federation-personal/index.js';
import { startBareGateway, type BareGateway } from './bareGateway.js';
import { kitServerOptions, startStack, type Stack } from './stack.js';

/** The calling agency of the conformance suite; its agreements cover every owner of the fixture. */
export const CONFORMANCE_CLIENT = 'malmo-stad';

/**
 * Agreements letting the client receive every category the fixture's owners declare, for the
 * purposes they declare and for STATISTICS, which they never declare: a STATISTICS request is then
 * refused for the declaration (PURPOSE_NOT_ALLOWED), never for want of an agreement.
 */
const AGREEMENTS = parseAgreements(
  {
    agreements: [
      ['register', ['IDENTITY', 'ADDRESS_CONTACT', 'FAMILY']],
      ['tax', ['INCOME']],
      ['benefits', ['BENEFITS']],
      ['studies', ['BENEFITS', 'IDENTITY']],
    ].map(([owner, categories]) => ({
      id: `AGR-CONFORMANCE-${String(owner).toUpperCase()}`,
      client: CONFORMANCE_CLIENT,
      owner,
      categories,
      purposes: ['CASE_HANDLING', 'PAYMENT_CONTROL', 'STATISTICS'],
      legalBasis: '11 kap. 11 § socialtjänstlagen (2001:453)',
      processingRegister: { recordId: 'MALMO-SOC-FR-0142', version: 5 },
      validFrom: '2025-01-01',
      validUntil: '2099-12-31',
    })),
  },
  'federation-personal conformance agreements',
);

export interface ConformanceResponse {
  readonly status: number;
  readonly data?: Record<string, unknown> | null | undefined;
  readonly errors?: readonly GraphQLFormattedError[] | undefined;
  readonly extensions?: Record<string, unknown>;
}

export interface FederationPersonalStack {
  readonly world: FixtureWorld;
  /** The reference stack: certificates, the access-log store our gateway writes to. */
  readonly stack: Stack;
  /** The partners' API schema of the fixture supergraph. */
  readonly apiSchema: GraphQLSchema;
  readonly catalogue: PersonalFieldCatalogue;
  /** Calls the fixture's subgraphs have answered so far, all of them together. */
  subgraphRequests(): number;
  /** Through our gateway, over mutual TLS, as the conformance client (registered documents run compiled when `documents` were given). */
  ours(claims: RequestTokenClaims, query: string, variables?: Record<string, unknown>): Promise<ConformanceResponse>;
  /** Through a second gateway of ours with COMPILED_OPERATIONS=false: Apollo Server's path for every document. */
  oursViaApolloServer(claims: RequestTokenClaims, query: string, variables?: Record<string, unknown>): Promise<ConformanceResponse>;
  /** Requests our (first) gateway answered by a compiled operation so far. */
  compiledAnswers(): Promise<number>;
  /** Through bare @apollo/gateway, the subgraphs called with the same case. */
  bare(claims: RequestTokenClaims, query: string, variables?: Record<string, unknown>): Promise<ConformanceResponse>;
  close(): Promise<void>;
}

/**
 * The fixture's five subgraphs served by the subgraph kit (mutual TLS, gateway context tokens) on
 * loopback, composed with the project's composition, our gateway over them (its access log is the
 * reference stack's real store), and bare @apollo/gateway over the same servers.
 */
export async function startFederationPersonal(options: { readonly documents?: readonly string[] } = {}): Promise<FederationPersonalStack> {
  // The documents the suite sends, registered for its client: production mode runs them as compiled operations.
  const trustedDocumentsDir = options.documents ? mkdtempSync(path.join(os.tmpdir(), 'federation-personal-documents-')) : undefined;
  if (trustedDocumentsDir && options.documents) {
    const documents = new Map(options.documents.map((query) => [documentId(query), normalizeDocument(query)]));
    writeManifest(trustedDocumentsDir, {
      agency: CONFORMANCE_CLIENT,
      documents: [...documents].map(([id, document]) => ({ id, operationName: null, purposes: ['CASE_HANDLING'], document, registeredOn: '2026-01-01' })),
    });
  }
  const stack = await startStack({ persons: 200, ...(trustedDocumentsDir ? { trustedDocumentsDir } : {}) });
  const metrics = new GatewayMetrics();
  const world = buildFixtureWorld();
  const subgraphs: RunningSubgraph[] = [];
  let gateway: RunningGateway | undefined;
  let viaApolloServer: RunningGateway | undefined;
  let bare: BareGateway | undefined;
  let supergraphSdl = '';
  let apiSchemaSdl = '';
  const clients: AgencyClient[] = [];
  const closeAll = async () => {
    await Promise.all(clients.map((c) => c.close()));
    await gateway?.close();
    await viaApolloServer?.close();
    await bare?.close();
    await Promise.all(subgraphs.map((s) => s.close()));
    await stack.close();
  };
  try {
    const serving = await kitServerOptions(stack);
    for (const subgraph of createFederationPersonalSubgraphs(world)) subgraphs.push(await serveSubgraph(subgraph, { port: 0, ...serving }));
    const urls = new Map(subgraphs.map((s) => [s.name, s.url]));
    const composed = composeSupergraph(federationPersonalSources((name) => urls.get(name)!));
    ({ supergraphSdl, apiSchemaSdl } = composed);
    const supergraphPath = path.join(stack.dir, 'federation-personal.graphql');
    writeFileSync(supergraphPath, composed.supergraphSdl);
    const dependencies = { ...stack.deps, agreements: () => AGREEMENTS, logError: (record: object) => console.error('GATEWAY ERROR', JSON.stringify(record)) };
    gateway = await createGateway(loadGatewayConfig({ GATEWAY_PORT: '0', SUPERGRAPH_PATH: supergraphPath }), { ...dependencies, metrics });
    viaApolloServer = await createGateway(loadGatewayConfig({ GATEWAY_PORT: '0', SUPERGRAPH_PATH: supergraphPath, COMPILED_OPERATIONS: 'false' }), dependencies);
    bare = await startBareGateway({ supergraphSdl: composed.supergraphSdl, signingKey: stack.deps.signingKey.privateKey, tls: stack.deps.subgraphTls });
  } catch (error) {
    await closeAll();
    throw error;
  }
  const bareGateway = bare;
  const clientOf = (gatewayUrl: string) => {
    const client = createAgencyClient({
      certPath: path.join(stack.certsDir, 'agencies', `${CONFORMANCE_CLIENT}.crt`),
      keyPath: path.join(stack.certsDir, 'agencies', `${CONFORMANCE_CLIENT}.key`),
      caPath: path.join(stack.certsDir, 'ca.crt'),
      gatewayUrl,
      official: 'conformance-1',
      purpose: 'CASE_HANDLING',
      caseId: 'CONFORMANCE',
      subjects: world.everyone,
    });
    clients.push(client);
    return client;
  };
  const client = clientOf(gateway.url);
  const apolloClient = clientOf(viaApolloServer.url);
  const agency = readAgencyRegistry().agencies.find((a) => a.id === CONFORMANCE_CLIENT)!;
  return {
    world,
    stack,
    apiSchema: buildSchema(apiSchemaSdl),
    catalogue: readPersonalFieldCatalogue(supergraphSdl),
    subgraphRequests: () => subgraphs.reduce((sum, s) => sum + s.subgraph.queryCount(), 0),
    ours: (claims, query, variables) => client.query(query, variables, claims),
    oursViaApolloServer: (claims, query, variables) => apolloClient.query(query, variables, claims),
    compiledAnswers: async () => (await metrics.compiledOperationAnswers.get()).values[0]?.value ?? 0,
    bare: async (claims, query, variables) => {
      const requestId = randomUUID();
      const caller: CallerContext = {
        agency: { id: agency.id, name: agency.name, organisationNumber: agency.organisationNumber },
        official: claims.official,
        purpose: claims.purpose,
        caseId: claims.caseId,
        subjects: claims.subjects,
        requestId,
        certificateThumbprint: 'bare-gateway',
        tokenId: requestId,
      };
      return { status: 200, ...(await bareGateway.query(caller, query, variables)) };
    },
    close: closeAll,
  };
}
