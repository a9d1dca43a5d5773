import { loadGatewayConfig } from '../config/gatewayConfig.js';
import { loadIdentityConfig } from '../config/identityConfig.js';
import { ConfigError } from '../config/parseEnv.js';
import { createGateway } from '../createGateway.js';
import { loadGatewayDependencies } from '../gateway/loadGatewayDependencies.js';
import { runUntilSignal } from './runUntilSignal.js';

/** Runs the gateway alone (its subgraphs are started elsewhere). */
async function main(): Promise<void> {
  const config = loadGatewayConfig();
  const deps = await loadGatewayDependencies({ identity: loadIdentityConfig(), agreementsPath: config.agreementsPath });
  const gateway = await createGateway(config, deps);
  process.on('SIGHUP', () => {
    try {
      deps.reloadAgreements();
      deps.registry.reload();
      deps.trust.reload();
      console.log(JSON.stringify({ msg: 'configuration reloaded' }));
    } catch (error) {
      console.error(JSON.stringify({ msg: 'reload refused; previous configuration stays in force', error: (error as Error).message }));
    }
  });
  if (config.mode === 'development') {
    console.log(JSON.stringify({ msg: 'DEVELOPMENT MODE: introspection on and plain-http subgraph URLs accepted; never run it with real personal data' }));
  }
  console.log(JSON.stringify({ msg: 'gateway ready', url: gateway.url, mode: config.mode }));
  runUntilSignal(async () => {
    await gateway.close();
    await deps.close();
  });
}

main().catch((error: unknown) => {
  console.error(error instanceof ConfigError ? error.message : `Gateway failed to start: ${(error as Error).message}`);
  process.exit(1);
});
