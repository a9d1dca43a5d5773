import { existsSync, readdirSync, statSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { REFERENCE_AGENCIES } from '../agencies/referenceAgencies.js';
import { DEFAULT_SUPERGRAPH_PATH, REPO_ROOT } from '../config/paths.js';
import { ConfigError } from '../config/parseEnv.js';
import { loadStartConfig } from '../config/commandsConfig.js';
import { ensureDevFederation } from '../identity/pki/devFederation.js';
import { readAgencyRegistry } from '../identity/registry.js';
import { DEV_OFFICIAL_REGISTRY_PATH, readOfficialRegistry } from '../identity/officialRegistry.js';
import { DEV_PKCS12_PASSWORD } from '../identity/pki/pkcs12.js';
import { ensurePopulation, samplePersons } from '../population/index.js';
import { composeReferenceSupergraph } from './compose.js';
import { startService, type ServiceProcess } from './processes.js';

/**
 * `npm start`: prepares what is missing (development certificates, synthetic population,
 * supergraph, generated types), starts every agency subgraph (REFERENCE_AGENCIES) and the gateway as separate
 * processes, and prints how to query it. Ctrl-C stops them all.
 */
async function main(): Promise<void> {
  const env = loadStartConfig(process.env);
  const { dataDir, certsDir } = env;

  const registry = readAgencyRegistry();
  const steps = await ensureDevFederation({ dir: certsDir, registry, officials: readOfficialRegistry(DEV_OFFICIAL_REGISTRY_PATH, registry) });
  const created = steps.filter((s) => s.action !== 'kept');
  say(created.length > 0 ? `certificates: created ${created.length} files in ${path.relative(REPO_ROOT, certsDir)}/` : 'certificates: present');

  const population = await ensurePopulation({ dir: dataDir, persons: env.populationSize, seed: env.populationSeed });
  say(population.status === 'generated' ? `population: generated ${env.populationSize} synthetic persons in ${path.relative(REPO_ROOT, dataDir)}/` : 'population: present');

  if (isStale(DEFAULT_SUPERGRAPH_PATH, path.join(REPO_ROOT, 'schema'))) {
    composeReferenceSupergraph();
    say('supergraph: composed schema/supergraph.graphql');
  } else {
    say('supergraph: up to date');
  }
  const generated = [path.join(REPO_ROOT, 'resolvers', 'skatteverket', '__generated__', 'types.ts'), path.join(REPO_ROOT, 'examples', '__generated__', 'graphql.ts')];
  if (!generated.every((file) => existsSync(file))) {
    const codegen = spawnSync('npx', ['graphql-codegen', '--config', 'codegen.ts'], { cwd: REPO_ROOT, stdio: 'inherit' });
    if (codegen.status !== 0) throw new Error('npm run codegen failed');
  }

  const baseEnv = { ...process.env, DATA_DIR: dataDir, CERTS_DIR: certsDir, GATEWAY_MODE: process.env['GATEWAY_MODE'] ?? 'development' };
  const services: ServiceProcess[] = REFERENCE_AGENCIES.map((agency) => startService(agency.id, 'src/cli/serveSubgraph.ts', { args: [agency.id], env: baseEnv }));
  const stopAll = async () => {
    await Promise.all(services.map((s) => s.stop()));
  };
  let stopping = false;
  const onSignal = () => {
    if (stopping) return;
    stopping = true;
    say('stopping…');
    void stopAll().then(() => process.exit(0));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    await Promise.all(services.map((s) => s.ready));
    const gateway = startService('gateway', 'src/cli/serveGateway.ts', { env: { ...baseEnv, GATEWAY_PORT: String(env.gatewayPort) } });
    services.push(gateway);
    const ready = await gateway.ready;
    for (const service of services) {
      service.child.once('exit', (code, signal) => {
        if (stopping) return;
        say(`${service.name} stopped unexpectedly (${signal ?? `code ${code}`}); stopping the rest.`);
        onSignal();
      });
    }
    printWelcome(String(ready['url']), dataDir);
  } catch (error) {
    say(`start failed: ${(error as Error).message}`);
    stopping = true;
    await stopAll();
    process.exit(1);
  }
}

function isStale(target: string, sourceDir: string): boolean {
  if (!existsSync(target)) return true;
  const built = statSync(target).mtimeMs;
  const sources = readdirSync(sourceDir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.graphql') && !f.endsWith('supergraph.graphql') && !f.endsWith('api.graphql'))
    .map((f) => path.join(sourceDir, f));
  return sources.some((f) => statSync(f).mtimeMs > built);
}

function printWelcome(url: string, dataDir: string): void {
  const sample = samplePersons(dataDir, 3);
  const subject = sample.withBenefits;
  say(`
Gateway: ${url} (mutual TLS; development certificates in certs/dev/)
Subgraphs: ${REFERENCE_AGENCIES.map((a) => `${a.id} https://127.0.0.1:${a.defaultPort}/graphql`).join(', ')}

Try, in another terminal (Malmö stad's social services, case handling):

  npm run query -- --as malmo-stad --purpose CASE_HANDLING --case SOC-2026-0001 --subject ${subject} \\
    'query ($p: Personnummer!) { person(personnummer: $p) { name { givenName familyName } taxedIncome { year earnedIncome } benefits { benefit amount unit } studentAid { grant loan } jobSeeker { status } enforcementDebt { total } } }' \\
    --variables '{"p":"${subject}"}'

Audit console for privacy officers: ${new URL('/audit', url).href}. Import a personal certificate
into the browser first, e.g. certs/dev/officials/dso-skv-1.p12 (Skatteverket's data protection
officer; password "${DEV_PKCS12_PASSWORD}"), or imy-insp-1.p12 for the supervisory authority.

Ctrl-C stops everything.`);
}

function say(message: string): void {
  process.stdout.write(`${message}\n`);
}

main().catch((error: unknown) => {
  console.error(error instanceof ConfigError ? error.message : `npm start failed: ${(error as Error).message}`);
  process.exit(1);
});
