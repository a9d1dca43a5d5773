import { ConfigError } from '../config/parseEnv.js';
import { loadOrCreateNoteSigner, loadWitnessServiceConfig } from '../config/transparencyConfig.js';
import { formatVerifierKey, SIG_COSIGNATURE_V1 } from '../transparency/note.js';
import { Witness } from '../witness/witness.js';
import { listen, witnessServer } from '../witness/server.js';
import { runUntilSignal } from './runUntilSignal.js';

/**
 * `npm run witness`: a transparency-log witness with its own Ed25519 key (generated to
 * WITNESS_KEY_PATH on first start). It cosigns the access log's checkpoints for the logs in
 * WITNESS_LOGS after checking consistency; see docs/access-log.md.
 */
async function main(): Promise<void> {
  const config = loadWitnessServiceConfig();
  const signer = loadOrCreateNoteSigner('WITNESS_KEY_PATH', config.keyPath, config.name, SIG_COSIGNATURE_V1);
  const witness = new Witness(signer, config.logs, config.statePath);
  const server = witnessServer(witness);
  const address = await listen(server, config.port, config.host);
  console.log(`Witness ${config.name} listening on http://${address.address}:${address.port}/add-checkpoint`);
  console.log(`Verifier key: ${formatVerifierKey(signer.verifier)}`);
  runUntilSignal(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    witness.close();
  });
}

main().catch((error: unknown) => {
  console.error(error instanceof ConfigError ? error.message : error);
  process.exit(error instanceof ConfigError ? 2 : 1);
});
