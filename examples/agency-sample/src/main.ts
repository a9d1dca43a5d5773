import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { loadAgreements, readGatewayPublicKey, serveSubgraph } from '@agency-exchange/subgraph-kit';
import { createPensionSubgraph, type PublicPension } from './subgraph.js';

/**
 * Serves the subgraph as the exchange expects it: mutual TLS admitting the gateway's client
 * certificate only, each call's caller context verified with the gateway's public key, and every
 * personal field checked against the agency's own copy of its agreements too.
 *
 *   node dist/main.js --cert server.crt --key server.key --ca ca.crt \
 *     --gateway-client-cert gateway-client.crt --gateway-key gateway-signing.jwk.json --agreements agreements.json [--register register.json]
 *
 * Prints `listening <url>` once it accepts calls; SIGTERM or SIGINT closes it.
 */
const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '4105' },
    cert: { type: 'string' },
    key: { type: 'string' },
    ca: { type: 'string' },
    'gateway-client-cert': { type: 'string' },
    'gateway-key': { type: 'string' },
    agreements: { type: 'string' },
    // A JSON object from personnummer to { monthlyAmount, since }; the sample's own two persons when absent.
    register: { type: 'string' },
  },
});
const { cert, key, ca, agreements } = values;
const gatewayClientCert = values['gateway-client-cert'];
const gatewayKey = values['gateway-key'];
if (!cert || !key || !ca || !gatewayClientCert || !gatewayKey || !agreements) {
  console.error(
    'Usage: node dist/main.js --cert <server.crt> --key <server.key> --ca <federation ca.crt> --gateway-client-cert <gateway-client.crt> --gateway-key <gateway-signing.jwk.json> --agreements <agreements.json> [--register <register.json>] [--port <n>]',
  );
  process.exit(2);
}

// Read once at start: a changed agreements file takes a restart here.
const ownAgreements = loadAgreements(agreements);
const register = values.register ? new Map(Object.entries(JSON.parse(readFileSync(values.register, 'utf8')) as Record<string, PublicPension>)) : undefined;
const running = await serveSubgraph(createPensionSubgraph(register), {
  port: Number(values.port),
  tls: { cert: readFileSync(cert), key: readFileSync(key), ca: readFileSync(ca), gatewayClientCertificate: readFileSync(gatewayClientCert) },
  gatewayPublicKey: await readGatewayPublicKey(gatewayKey),
  agreements: () => ownAgreements,
});
console.log(`listening ${running.url}`);

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => void running.close().then(() => process.exit(0)));
}
