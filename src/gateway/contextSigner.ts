import { signGatewayContext } from '../identity/gatewayContextToken.js';
import type { GatewaySigningKey } from '../identity/index.js';
import { covers, isInForce, type Agreement } from '../policy/agreements.js';
import type { GatewayContext } from './gatewayContext.js';

/**
 * Signs the caller context once per request and subgraph (a request may call a subgraph several
 * times along its query plan), with what the agreements allow that subgraph to release. A token
 * names its request (`rid`, `tid`), so it is never reused for another one.
 */
export function createContextSigner(options: { signingKey: GatewaySigningKey; agreements(): readonly Agreement[]; today(): string }) {
  const cache = new WeakMap<GatewayContext, Map<string, string>>();
  return (context: GatewayContext, subgraph: string): string => {
    const caller = context.caller;
    let perSubgraph = cache.get(context);
    if (!perSubgraph) cache.set(context, (perSubgraph = new Map()));
    let token = perSubgraph.get(subgraph);
    if (token === undefined) {
      const today = options.today();
      const protectedIdentityAccess = options
        .agreements()
        .some(
          (a) =>
            a.protectedIdentityAccess &&
            covers(a, { client: caller.agency.id, owner: subgraph, category: 'ADDRESS_CONTACT', purpose: caller.purpose }) &&
            isInForce(a, today),
        );
      token = signGatewayContext(options.signingKey.privateKey, subgraph, { caller, protectedIdentityAccess });
      perSubgraph.set(subgraph, token);
    }
    return token;
  };
}
