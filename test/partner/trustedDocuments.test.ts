import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDocumentsCommand } from '../../src/cli/documents.js';
import { DEV_TRUSTED_DOCUMENTS_DIR, loadGatewayConfig } from '../../src/config/gatewayConfig.js';
import { createGateway, type RunningGateway } from '../../src/createGateway.js';
import { documentId } from '../../src/trusted-documents/documentId.js';
import { readManifest, TrustedDocumentsConfigError } from '../../src/trusted-documents/manifest.js';
import { REPO_ROOT } from '../../src/config/paths.js';
import { createAgencyClient } from '../../src/client/index.js';
import { startStack, type Stack } from '../support/stack.js';

const ALLOWED = `query MalmoIncome($p: Personnummer!) { person(personnummer: $p) { name { givenName } taxedIncome { year earnedIncome } } }`;
// Sjukpenning reveals health: no agreement gives Malmö stad HEALTH_RELATED data.
const DISALLOWED = `query MalmoSickness($p: Personnummer!) { person(personnummer: $p) { name { givenName } sicknessBenefit { outcome } } }`;
const AD_HOC = `query AdHoc($p: Personnummer!) { person(personnummer: $p) { taxedIncome { year } } }`;

const dir = mkdtempSync(path.join(os.tmpdir(), 'trusted-documents-'));
const env = { ...process.env, TRUSTED_DOCUMENTS_DIR: dir };
const files = { allowed: path.join(dir, 'allowed.graphql'), disallowed: path.join(dir, 'disallowed.graphql') };
writeFileSync(files.allowed, ALLOWED);
writeFileSync(files.disallowed, DISALLOWED);

function quietIo() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (l: string) => void out.push(l), err: (l: string) => void err.push(l) }, out, err };
}

describe('registering trusted documents (npm run documents -- register)', () => {
  it("registers an operation the agency's agreements allow, under the id codegen would give it", async () => {
    const { io, out } = quietIo();
    expect(await runDocumentsCommand(['register', '--agency', 'malmo-stad', '--purpose', 'CASE_HANDLING', files.allowed], env, io)).toBe(0);
    const manifest = readManifest(path.join(dir, 'malmo-stad.json'));
    expect(manifest.documents.map((d) => [d.operationName, d.id, d.purposes])).toEqual([['MalmoIncome', documentId(ALLOWED), ['CASE_HANDLING']]]);
    expect(out.join('\n')).toContain(documentId(ALLOWED));
  });

  it('refuses an operation asking for a field no agreement allows, naming the field and code, and registers nothing', async () => {
    const before = readFileSync(path.join(dir, 'malmo-stad.json'), 'utf8');
    const { io, err } = quietIo();
    expect(await runDocumentsCommand(['register', '--agency', 'malmo-stad', '--purpose', 'CASE_HANDLING', files.allowed, files.disallowed], env, io)).toBe(1);
    expect(err.join('\n')).toContain('Person.sicknessBenefit NO_AGREEMENT');
    expect(err.join('\n')).not.toContain('Person.name');
    expect(readFileSync(path.join(dir, 'malmo-stad.json'), 'utf8')).toBe(before);
  });

  it('refuses an operation whose purpose the owner does not declare for a field', async () => {
    const { io, err } = quietIo();
    expect(await runDocumentsCommand(['register', '--agency', 'malmo-stad', '--purpose', 'STATISTICS', files.allowed], env, io)).toBe(1);
    expect(err.join('\n')).toContain('Person.name PURPOSE_NOT_ALLOWED');
  });

  it('refuses an operation that is not valid against the API schema', async () => {
    const invalid = path.join(dir, 'invalid.graphql');
    writeFileSync(invalid, 'query Typo($p: Personnummer!) { person(personnummer: $p) { taxedIncomes { year } } }');
    const { io } = quietIo();
    expect(await runDocumentsCommand(['register', '--agency', 'malmo-stad', '--purpose', 'CASE_HANDLING', invalid], env, io)).toBe(1);
  });

  it('rejects a manifest whose id is not the hash of its document', () => {
    const tampered = mkdtempSync(path.join(os.tmpdir(), 'trusted-documents-tampered-'));
    try {
      const manifest = JSON.parse(readFileSync(path.join(dir, 'malmo-stad.json'), 'utf8'));
      manifest.documents[0].document = manifest.documents[0].document.replace('givenName', 'familyName');
      writeFileSync(path.join(tampered, 'malmo-stad.json'), JSON.stringify(manifest));
      expect(() => readManifest(path.join(tampered, 'malmo-stad.json'))).toThrow(TrustedDocumentsConfigError);
    } finally {
      rmSync(tampered, { recursive: true, force: true });
    }
  });

  it("the development manifests register every example operation under codegen's persisted-document id", () => {
    const persisted = JSON.parse(readFileSync(path.join(REPO_ROOT, 'examples', '__generated__', 'persisted-documents.json'), 'utf8')) as Record<string, string>;
    const registered = new Set(['malmo-stad', 'forsakringskassan'].flatMap((agency) => readManifest(path.join(DEV_TRUSTED_DOCUMENTS_DIR, `${agency}.json`)).documents.map((d) => d.id)));
    for (const [id, text] of Object.entries(persisted)) {
      expect(documentId(text)).toBe(id);
      expect(registered.has(id)).toBe(true);
    }
  });
});

describe('the gateway with trusted documents', () => {
  let stack: Stack;
  let development: RunningGateway;
  beforeAll(async () => {
    const gatewayDir = mkdtempSync(path.join(os.tmpdir(), 'trusted-documents-gateway-'));
    cpSync(path.join(dir, 'malmo-stad.json'), path.join(gatewayDir, 'malmo-stad.json'));
    stack = await startStack({ persons: 300, trustedDocumentsDir: gatewayDir });
    const urls = [...stack.subgraphs.values()].map((s) => `${s.name}=${s.url}`).join(',');
    development = await createGateway(loadGatewayConfig({ GATEWAY_PORT: '0', GATEWAY_MODE: 'development', SUBGRAPH_URLS: urls }), stack.deps);
  });
  afterAll(async () => {
    await development?.close();
    await stack?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const claims = () => ({ official: 'handlaggare-1', purpose: 'CASE_HANDLING' as const, caseId: 'SOC-1', subjects: [stack.sample.withBenefits] });

  it('runs a registered document sent as text in production mode', async () => {
    const response = await stack.client('malmo-stad', claims()).query(ALLOWED, { p: stack.sample.withBenefits });
    expect(response.errors).toBeUndefined();
    expect(response.data).toMatchObject({ person: { name: { givenName: expect.any(String) } } });
  });

  it('runs a registered document sent as text written differently (same normalised document)', async () => {
    const reformatted = `query MalmoIncome($p: Personnummer!) {\n  person(personnummer: $p) {\n    taxedIncome { earnedIncome year }\n    name { givenName }\n  }\n}`;
    const response = await stack.client('malmo-stad', claims()).query(reformatted, { p: stack.sample.withBenefits });
    expect(response.errors).toBeUndefined();
  });

  it('runs a registered document sent by documentId alone', async () => {
    const response = await stack.client('malmo-stad', claims()).query('', { p: stack.sample.withBenefits }, { documentId: documentId(ALLOWED) });
    expect(response.errors).toBeUndefined();
    expect(response.data).toMatchObject({ person: { taxedIncome: expect.any(Array) } });
  });

  it('refuses an unregistered document in production mode with DOCUMENT_NOT_REGISTERED, before any agency is called', async () => {
    const before = stack.queryCounts();
    const response = await stack.client('malmo-stad', claims()).query(AD_HOC, { p: stack.sample.withBenefits });
    expect(response.status).toBe(403);
    expect(response.data ?? null).toBeNull();
    expect(response.errors?.map((e) => e.extensions?.['code'])).toEqual(['DOCUMENT_NOT_REGISTERED']);
    expect(response.errors?.[0]?.extensions?.['documentId']).toBe(documentId(AD_HOC));
    expect(stack.queryCounts()).toEqual(before);
  });

  it('refuses an unknown documentId', async () => {
    const response = await stack.client('malmo-stad', claims()).query('', { p: stack.sample.withBenefits }, { documentId: documentId(AD_HOC) });
    expect(response.status).toBe(403);
    expect(response.errors?.map((e) => e.extensions?.['code'])).toEqual(['DOCUMENT_NOT_REGISTERED']);
  });

  it("refuses another agency's registered document, by id or as text", async () => {
    const client = stack.client('forsakringskassan', { ...claims(), purpose: 'PAYMENT_CONTROL' });
    const byId = await client.query('', { p: stack.sample.withBenefits }, { documentId: documentId(ALLOWED) });
    const asText = await client.query(ALLOWED, { p: stack.sample.withBenefits });
    expect([byId, asText].map((r) => r.errors?.map((e) => e.extensions?.['code']))).toEqual([['DOCUMENT_NOT_REGISTERED'], ['DOCUMENT_NOT_REGISTERED']]);
  });

  it('still runs the purpose check on a registered document used for another purpose', async () => {
    const response = await stack.client('malmo-stad', { ...claims(), purpose: 'STATISTICS' }).query(ALLOWED, { p: stack.sample.withBenefits });
    expect(response.errors?.map((e) => e.extensions?.['code'])).toContain('PURPOSE_NOT_ALLOWED');
  });

  it('accepts ad hoc documents in development mode', async () => {
    const client = createAgencyClient({
      certPath: path.join(stack.certsDir, 'agencies', 'malmo-stad.crt'),
      keyPath: path.join(stack.certsDir, 'agencies', 'malmo-stad.key'),
      caPath: path.join(stack.certsDir, 'ca.crt'),
      gatewayUrl: development.url,
      ...claims(),
    });
    try {
      const response = await client.query(AD_HOC, { p: stack.sample.withBenefits });
      expect(response.errors).toBeUndefined();
      expect(response.data).toMatchObject({ person: { taxedIncome: expect.any(Array) } });
    } finally {
      await client.close();
    }
  });
});
