import { ConfigError } from '../config/parseEnv.js';
import { loadOrCreateNoteSigner, loadWitnessServiceConfig } from '../config/transparencyConfig.js';
import { announcer, createLogger } from '../observability/logger.js';
import { formatVerifierKey, SIG_COSIGNATURE_V1 } from '../transparency/note.js';
import { Witness } from '../witness/witness.js';
import { listen, witnessServer } from '../witness/server.js';
import { runUntilSignal } from './runUntilSignal.js';

/**
 * `npm run witness`: a transparency-log witness with its own Ed25519 key (generated to
 * WITNESS_KEY_PATH on first start), served over HTTPS (WITNESS_TLS_CERT_PATH; `npm run certs`
 * makes the development one). It cosigns the access log's checkpoints for the logs in
 * WITNESS_LOGS after checking consistency; see docs/access-log.md.
 */
async function main(): Promise<void> {
  const config = loadWitnessServiceConfig();
  const signer = loadOrCreateNoteSigner('WITNESS_KEY_PATH', config.keyPath, config.name, SIG_COSIGNATURE_V1);
  if (signer.name !== config.name) throw new ConfigError([`WITNESS_KEY_PATH: the key is named ${signer.name}, WITNESS_NAME is ${config.name}`]);
  if (config.previousKeys.some((key) => key.keyId.equals(signer.keyId))) throw new ConfigError(['WITNESS_PREVIOUS_KEYS: lists the current key']);
  const witness = new Witness(signer, config.logs, config.statePath);
  const server = witnessServer(witness, { ...(config.tls ? { tls: config.tls } : {}), previousKeys: config.previousKeys });
  const address = await listen(server, config.port, config.host);
  const logger = createLogger({ name: 'witness' });
  announcer(logger).info(
    {
      url: `${config.tls ? 'https' : 'http'}://${address.address}:${address.port}`,
      verifierKey: formatVerifierKey(signer.verifier),
      // Still published at /verifier-key: verifiers keep accepting what these keys cosigned.
      previousKeys: config.previousKeys.map((key) => formatVerifierKey(key)),
    },
    `witness ${config.name} ready`,
  );
  runUntilSignal(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    witness.close();
  });
}

main().catch((error: unknown) => {
  console.error(error instanceof ConfigError ? error.message : error);
  process.exit(error instanceof ConfigError ? 2 : 1);
});
