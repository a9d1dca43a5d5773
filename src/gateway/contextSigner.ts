import { allowanceClaimsJson, callerClaimsJson, signGatewayContextClaims, subgraphRequestHash, type SubgraphRequestBody } from '../identity/gatewayContextToken.js';
import type { CallerContext } from '../identity/callerContext.js';
import type { GatewaySigningKey } from '../identity/index.js';
import { covers, isInForce, type Agreement } from '../policy/agreements.js';
import { grantsProtectedIdentityAccess } from '../policy/protectedIdentity.js';
import { CATEGORIES, type PersonalDataCategory, type Purpose } from '../policy/purposes.js';
import type { IdentifiedRequest } from '../pipeline/stages.js';
import type { PersonalFieldCatalogue } from '../policy/personalFieldCatalogue.js';

/** What the agreements in force let one client receive from one owner for one purpose. */
interface Allowance {
  readonly agreements: readonly Agreement[];
  readonly catalogue: PersonalFieldCatalogue;
  readonly categories: ReadonlySet<PersonalDataCategory>;
  readonly protectedIdentityAccess: boolean;
  /** Other owners' personal fields this subgraph provides that the caller may receive. */
  readonly provided: ReadonlySet<string>;
  /** The allowance's claims of the context token, serialised once (allowanceClaimsJson). */
  readonly claimsJson: string;
}

/** Past this many (client, owner, purpose, day) allowances they start over. */
const MAX_ALLOWANCES = 4096;

/**
 * Signs the caller context for each subgraph call: a token per call, bound to its request and
 * used once (see signGatewayContext), carrying what the agreements allow that subgraph to release
 * to this caller, so the subgraph can check categories as well as purposes. The allowance is
 * worked out once per client, owner, purpose and day (and again after an agreements reload).
 */
export function createContextSigner(options: { signingKey: GatewaySigningKey; agreements(): readonly Agreement[]; today(): string; catalogue(): PersonalFieldCatalogue }) {
  const allowances = new Map<string, Allowance>();
  const allowanceOf = (client: string, owner: string, purpose: Purpose): Allowance => {
    const agreements = options.agreements();
    const catalogue = options.catalogue();
    const today = options.today();
    const key = `${client}\n${owner}\n${purpose}\n${today}`;
    const known = allowances.get(key);
    if (known && known.agreements === agreements && known.catalogue === catalogue) return known;
    const inForce = agreements.filter((a) => isInForce(a, today));
    const categories = new Set(CATEGORIES.filter((category) => inForce.some((a) => covers(a, { client, owner, category, purpose }))));
    const protectedIdentityAccess = grantsProtectedIdentityAccess(inForce, { client, owner, purpose });
    // Judged as the purpose check judges them: against their owner, not the subgraph that provides them.
    const provided = new Set<string>();
    for (const field of catalogue.fields.values()) {
      if (!field.providers.has(owner) || !field.purposes.has(purpose)) continue;
      if (inForce.some((a) => covers(a, { client, owner: field.owner, category: field.category, purpose }))) provided.add(field.coordinate);
    }
    if (allowances.size >= MAX_ALLOWANCES) allowances.clear();
    const claimsJson = allowanceClaimsJson({ protectedIdentityAccess, categories, provided });
    const allowance = { agreements, catalogue, categories, protectedIdentityAccess, provided, claimsJson };
    allowances.set(key, allowance);
    return allowance;
  };
  // A request's caller is the same in each of its calls' tokens: its claims are serialised once
  // per request (the caller context is built once per request and never changed).
  const callerClaims = new WeakMap<CallerContext, string>();
  const callerClaimsOf = (caller: CallerContext): string => {
    let json = callerClaims.get(caller);
    if (json === undefined) callerClaims.set(caller, (json = callerClaimsJson(caller)));
    return json;
  };
  return (context: IdentifiedRequest, subgraph: string, request: SubgraphRequestBody, variablesJson?: string): string => {
    const { caller } = context;
    const allowance = allowanceOf(caller.agency.id, subgraph, caller.purpose);
    const claims = `${callerClaimsOf(caller)},${allowance.claimsJson}`;
    return signGatewayContextClaims(options.signingKey.privateKey, subgraph, claims, subgraphRequestHash(request, variablesJson));
  };
}
