import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { lstatSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { composeSupergraph } from '../../src/apollo/composeSupergraph.js';
import { referenceSubgraphSources } from '../../src/composition/referenceSubgraphs.js';
import { REPO_ROOT } from '../../src/config/paths.js';
import type { CallerContext } from '../../src/identity/callerContext.js';
import { signGatewayContext } from '../../src/identity/gatewayContextToken.js';
import { readGatewaySigningKey } from '../../src/identity/pki/gatewaySigningKey.js';
import { parseAgreements } from '../../src/policy/agreements.js';
import { subgraphSdlSource } from '../../src/subgraph-kit/loadSdl.js';
import { entriesOfCase } from '../support/accessLogEntries.js';
import { startStack, type Stack } from '../support/stack.js';

/**
 * What partners and agencies take home: the two workspace packages, built as CI builds them, and
 * two projects outside src/ that depend on them by name as a user's project would (the samples in
 * examples/), built with their own tsconfig and codegen and run as separate Node processes, so
 * nothing resolves through this repository's sources or vitest's module graph.
 */

const execFileAsync = promisify(execFile);

const PACKAGES = [
  { name: '@agency-exchange/client', dir: 'src/client', sample: 'examples/partner-sample', shipped: ['README.md', 'dist/index.d.ts', 'dist/index.js', 'package.json'] },
  {
    name: '@agency-exchange/subgraph-kit',
    dir: 'src/subgraph-kit',
    sample: 'examples/agency-sample',
    shipped: ['README.md', 'dist/index.d.ts', 'dist/index.js', 'dist/personal.graphql', 'package.json'],
  },
] as const;

const PARTNER_SAMPLE = path.join(REPO_ROOT, 'examples', 'partner-sample');
const AGENCY_SAMPLE = path.join(REPO_ROOT, 'examples', 'agency-sample');

async function npm(args: readonly string[], cwd = REPO_ROOT): Promise<string> {
  const { stdout } = await execFileAsync('npm', args, { cwd, maxBuffer: 32 * 1024 * 1024 });
  return stdout;
}

/** A sample's program run with Node itself, as its README says; resolves with the exit code and output. */
function runNode(cwd: string, args: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** The package names a bundle imports (`@scope/name/sub/path` → `@scope/name`), Node's builtins left out. */
function importedPackages(bundle: string): Set<string> {
  const names = new Set<string>();
  for (const [, specifier] of bundle.matchAll(/^import\s[^;]*?from\s*"([^".][^"]*)";?$/gm)) {
    const bare = specifier!.replace(/^node:/, '');
    if (builtinModules.includes(bare)) continue;
    names.add(
      specifier!
        .split('/')
        .slice(0, specifier!.startsWith('@') ? 2 : 1)
        .join('/'),
    );
  }
  return names;
}

beforeAll(async () => {
  // What CI runs on a clean clone: the packages' builds, then each sample's own build (codegen
  // and tsc), which finds the packages through node_modules only.
  await npm(['run', 'build:packages']);
  await npm(['run', 'build', '--workspace', 'partner-sample', '--workspace', 'agency-sample']);
});

describe('the workspace packages', () => {
  for (const pkg of PACKAGES) {
    it(`${pkg.name} ships its bundle, its declarations and its README, nothing else`, async () => {
      const [packed] = JSON.parse(await npm(['pack', '--dry-run', '--json', '--workspace', pkg.name])) as [{ files: { path: string }[] }];
      expect(packed.files.map((f) => f.path).sort()).toEqual(pkg.shipped);
    });

    it(`${pkg.name} bundles our shared modules and imports exactly the dependencies it declares`, () => {
      const dir = path.join(REPO_ROOT, pkg.dir);
      const manifest = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { dependencies: Record<string, string>; peerDependencies: Record<string, string> };
      // esbuild's record of what went into the bundle: our modules from src/, no dependency's code.
      const metafile = JSON.parse(readFileSync(path.join(dir, 'dist', 'metafile-esm.json'), 'utf8')) as { inputs: Record<string, unknown> };
      const inputs = Object.keys(metafile.inputs);
      expect(inputs.filter((input) => input.includes('node_modules'))).toEqual([]);
      expect(inputs.map((input) => path.resolve(dir, input)).every((file) => file.startsWith(path.join(REPO_ROOT, 'src') + path.sep))).toBe(true);
      const declared = [...Object.keys(manifest.dependencies), ...Object.keys(manifest.peerDependencies)].sort();
      expect([...importedPackages(readFileSync(path.join(dir, 'dist', 'index.js'), 'utf8'))].sort()).toEqual(declared);
    });

    it(`${path.basename(pkg.sample)} resolves ${pkg.name} through node_modules to the built package, types included`, async () => {
      const sampleDir = path.join(REPO_ROOT, pkg.sample);
      const link = path.join(REPO_ROOT, 'node_modules', ...pkg.name.split('/'));
      expect(lstatSync(link).isSymbolicLink()).toBe(true);
      expect(realpathSync(link)).toBe(path.join(REPO_ROOT, pkg.dir));
      // Node's own resolution from the sample's folder: the workspace link, then the package's `exports`.
      const { stdout } = await execFileAsync(process.execPath, ['--input-type=module', '-e', `console.log(import.meta.resolve(${JSON.stringify(pkg.name)}))`], { cwd: sampleDir });
      expect(stdout.trim()).toBe(pathToFileURL(path.join(REPO_ROOT, pkg.dir, 'dist', 'index.js')).href);
      // The sample's type check reads the package's declarations and none of this repository's sources.
      const { stdout: files } = await execFileAsync(path.join(REPO_ROOT, 'node_modules', '.bin', 'tsc'), ['-p', 'tsconfig.json', '--listFilesOnly'], { cwd: sampleDir });
      const fromSrc = files.split('\n').filter((file) => file.startsWith(path.join(REPO_ROOT, 'src') + path.sep));
      expect(fromSrc).toEqual([path.join(REPO_ROOT, pkg.dir, 'dist', 'index.d.ts')]);
    });
  }
});

/** The agency's own copy of its agreements, and the exchange's: Malmö stad may receive its BENEFITS for case handling. */
const PENSION_AGREEMENTS = {
  agreements: [
    {
      id: 'AGR-MALMO-PM-2026-01',
      client: 'malmo-stad',
      owner: 'pensionsmyndigheten',
      categories: ['BENEFITS'],
      purposes: ['CASE_HANDLING'],
      legalBasis: '11 kap. 11 § socialtjänstlagen (2001:453)',
      processingRegister: { recordId: 'MALMO-SOC-FR-0142', version: 4 },
      validFrom: '2025-01-01',
      validUntil: '2029-12-31',
    },
  ],
};

describe('the samples, run for real', () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack({ persons: 200 });
  });

  afterAll(async () => {
    await stack?.close();
  });

  describe('the partner sample against the gateway', () => {
    function partner(options: { readonly subject: string; readonly caseId: string; readonly purpose?: string }) {
      const agency = (file: string) => path.join(stack.certsDir, 'agencies', `malmo-stad.${file}`);
      return runNode(PARTNER_SAMPLE, [
        'dist/index.js',
        ...['--gateway', stack.gateway.url, '--cert', agency('crt'), '--key', agency('key'), '--ca', path.join(stack.certsDir, 'ca.crt')],
        ...['--subject', options.subject, '--case', options.caseId, '--purpose', options.purpose ?? 'CASE_HANDLING', '--year', '2024'],
      ]);
    }

    it('answers its typed operation with the data the gateway releases, each value logged for the case', async () => {
      const subject = stack.sample.household[0]!;
      const caseId = `SOC-2026-${randomUUID().slice(0, 8)}`;
      const run = await partner({ subject, caseId });
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      const printed = JSON.parse(run.stdout) as { status: number; person: unknown; errors: unknown[] };

      // The same operation through the repository's own client, for another case: the same data.
      const client = stack.client('malmo-stad', { official: 'handlaggare-17', purpose: 'CASE_HANDLING', caseId: `${caseId}-ref`, subjects: [subject] });
      const reference = await client.query<{ person: { name: { givenName: string }; taxedIncome: unknown } }>(readFileSync(path.join(PARTNER_SAMPLE, 'src', 'operations.graphql'), 'utf8'), {
        applicant: subject,
        year: 2024,
      });
      expect(reference.errors).toBeUndefined();
      // An adult with taxed income that year, so the comparison below compares values.
      expect(reference.data!.person.taxedIncome).toEqual([expect.objectContaining({ year: 2024, earnedIncome: expect.any(Number) })]);
      expect(printed).toEqual({
        status: 200,
        person: { personnummer: subject, givenName: reference.data!.person.name.givenName, taxedIncome: reference.data!.person.taxedIncome },
        errors: [],
      });

      const logged = (await entriesOfCase(stack, caseId)).map((e) => `${e.clientAgencyId}|${e.subject}|${e.field}|${e.outcome}`);
      expect(logged).toEqual(expect.arrayContaining([`malmo-stad|${subject}|Person.name|released`, `malmo-stad|${subject}|Person.taxedIncome|released`]));
    });

    it('prints the refusal and exits 1 for a purpose the fields are not disclosed for', async () => {
      const run = await partner({ subject: stack.sample.persons[2]!, caseId: 'STAT-2026-0001', purpose: 'STATISTICS' });
      expect(run.code).toBe(1);
      const printed = JSON.parse(run.stdout) as { status: number; person: unknown; errors: { code: string; field: string }[] };
      expect(printed.status).toBe(403);
      expect(printed.person).toBeNull();
      // Skatteverket declares the name for no STATISTICS use; Malmö stad's agreement on income covers case handling and payment control only.
      expect(printed.errors.map((e) => `${e.field} ${e.code}`).sort()).toEqual(['Person.name PURPOSE_NOT_ALLOWED', 'Person.taxedIncome NO_AGREEMENT']);
    });
  });

  describe('the agency sample, served by the kit and called as the gateway calls it', () => {
    // Two adults of the stack's population, so the gateway also finds them in Skatteverket's register.
    let pensioner: string;
    let otherPensioner: string;
    const ENTITIES = 'query ($r: [_Any!]!) { _entities(representations: $r) { ... on Person { personnummer publicPension { monthlyAmount since } } } }';
    let server: ChildProcess;
    let url: string;
    let gatewayClient: Agent;
    let signingKey: Awaited<ReturnType<typeof readGatewaySigningKey>>['privateKey'];

    beforeAll(async () => {
      [pensioner, otherPensioner] = stack.sample.household as [string, string];
      const registerPath = path.join(stack.dir, 'pensionsmyndigheten-register.json');
      writeFileSync(registerPath, JSON.stringify({ [pensioner]: { monthlyAmount: 1_845_000, since: '2017-07-01' }, [otherPensioner]: { monthlyAmount: 1_512_300, since: '2013-12-01' } }));
      const agreementsPath = path.join(stack.dir, 'pensionsmyndigheten-agreements.json');
      writeFileSync(agreementsPath, JSON.stringify(PENSION_AGREEMENTS));
      const certs = (file: string) => path.join(stack.certsDir, file);
      // Any agency server certificate of the federation names 127.0.0.1; the caller checks the CA.
      server = spawn(
        process.execPath,
        [
          'dist/main.js',
          ...['--port', '0', '--cert', certs('servers/csn.crt'), '--key', certs('servers/csn.key'), '--ca', certs('ca.crt')],
          ...['--gateway-client-cert', certs('servers/gateway-client.crt'), '--gateway-key', certs('gateway-signing.jwk.json'), '--agreements', agreementsPath, '--register', registerPath],
        ],
        { cwd: AGENCY_SAMPLE, stdio: ['ignore', 'pipe', 'inherit'] },
      );
      url = await new Promise<string>((resolve, reject) => {
        let out = '';
        server.stdout!.on('data', (chunk: Buffer) => {
          out += chunk.toString();
          const listening = /^listening (\S+)$/m.exec(out);
          if (listening) resolve(listening[1]!);
        });
        server.once('exit', (code) => reject(new Error(`The agency sample exited (${code}) before listening: ${out}`)));
      });
      gatewayClient = new Agent({ connect: { ca: readFileSync(certs('ca.crt')), cert: readFileSync(certs('servers/gateway-client.crt')), key: readFileSync(certs('servers/gateway-client.key')) } });
      signingKey = (await readGatewaySigningKey(certs('gateway-signing.jwk.json'))).privateKey;
    });

    afterAll(async () => {
      await gatewayClient?.close();
      if (server && server.exitCode === null) {
        const exited = new Promise((resolve) => server.once('exit', resolve));
        server.kill('SIGTERM');
        await exited;
      }
    });

    function callerOf(agencyId: string, subjects: readonly string[]): CallerContext {
      return {
        agency: { id: agencyId, organisationNumber: agencyId === 'malmo-stad' ? '212000-1124' : '202100-5521', name: agencyId },
        official: 'handlaggare-17',
        purpose: 'CASE_HANDLING',
        caseId: 'SOC-2026-0777',
        subjects,
        requestId: randomUUID(),
        certificateThumbprint: 'not-checked-by-subgraphs',
        tokenId: randomUUID(),
      };
    }

    /** One subgraph call as the gateway makes it: its client certificate, and a context token it signed for this very body. */
    async function callAsGateway(caller: CallerContext | null, persons: readonly string[]) {
      const body = { query: ENTITIES, variables: { r: persons.map((personnummer) => ({ __typename: 'Person', personnummer })) } };
      const token = caller ? signGatewayContext(signingKey, 'pensionsmyndigheten', { caller, protectedIdentityAccess: false, categories: new Set(['BENEFITS']) }, body) : undefined;
      const response = await request(url, {
        method: 'POST',
        dispatcher: gatewayClient,
        headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: JSON.stringify(body),
      });
      return { status: response.statusCode, body: (await response.body.json()) as { data?: { _entities: unknown[] } | null; errors?: { path?: unknown[]; extensions: { code: string } }[] } };
    }

    it('releases its @personal field for the subject of the case and withholds it for anyone else', async () => {
      const { status, body } = await callAsGateway(callerOf('malmo-stad', [pensioner]), [pensioner, otherPensioner]);
      expect(status).toBe(200);
      expect(body.data?._entities).toEqual([
        { personnummer: pensioner, publicPension: { monthlyAmount: 1_845_000, since: '2017-07-01' } },
        { personnummer: otherPensioner, publicPension: null },
      ]);
      expect(body.errors?.map((e) => [e.path, e.extensions.code])).toEqual([[['_entities', 1, 'publicPension'], 'SUBJECT_NOT_IN_CASE']]);
    });

    it('withholds it from a caller its own agreements do not name, whatever the gateway signed', async () => {
      const { body } = await callAsGateway(callerOf('forsakringskassan', [pensioner]), [pensioner]);
      expect(body.data?._entities).toEqual([{ personnummer: pensioner, publicPension: null }]);
      expect(body.errors?.map((e) => e.extensions.code)).toEqual(['NO_AGREEMENT']);
    });

    it("refuses a call without the gateway's context token", async () => {
      const { status, body } = await callAsGateway(null, [pensioner]);
      expect(status).toBe(401);
      expect(body.errors?.map((e) => e.extensions.code)).toEqual(['GATEWAY_CONTEXT_INVALID']);
    });

    it('joins the federation: composed with the reference subgraphs, its field reaches a partner through the gateway, logged', async () => {
      const composed = composeSupergraph([
        ...referenceSubgraphSources('https'),
        { name: 'pensionsmyndigheten', sdl: subgraphSdlSource(path.join(AGENCY_SAMPLE, 'schema', 'pensionsmyndigheten.graphql')), url },
      ]);
      const supergraphPath = path.join(stack.dir, 'with-pensionsmyndigheten.graphql');
      writeFileSync(supergraphPath, composed.supergraphSdl);
      const urls = [...stack.subgraphs.values()]
        .map((s) => `${s.name}=${s.url}`)
        .concat(`pensionsmyndigheten=${url}`)
        .join(',');
      const gateway = await stack.startGateway(
        { SUPERGRAPH_PATH: supergraphPath, SUBGRAPH_URLS: urls },
        { agreements: () => [...stack.deps.agreements(), ...parseAgreements(PENSION_AGREEMENTS, 'test')] },
      );
      const caseId = `SOC-2026-${randomUUID().slice(0, 8)}`;
      const client = stack.client('malmo-stad', { official: 'handlaggare-17', purpose: 'CASE_HANDLING', caseId, subjects: [pensioner] }, gateway.url);
      const response = await client.query('query ($p: Personnummer!) { person(personnummer: $p) { name { givenName } publicPension { monthlyAmount since } } }', { p: pensioner });
      expect(response.errors).toBeUndefined();
      expect(response.data).toEqual({ person: { name: { givenName: expect.any(String) }, publicPension: { monthlyAmount: 1_845_000, since: '2017-07-01' } } });
      const logged = (await entriesOfCase(stack, caseId)).map((e) => `${e.subject}|${e.field}|${e.owningAgency}|${e.outcome}`);
      expect(logged).toContain(`${pensioner}|Person.publicPension|pensionsmyndigheten|released`);
    });
  });
});
