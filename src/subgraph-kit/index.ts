// The public API of @agency-exchange/subgraph-kit: what an agency needs to serve its register as a
// subgraph of the exchange. The repository's own subgraphs import the modules directly.
export { serveSubgraph } from './serveSubgraph.js';
export type { RunningSubgraph, SubgraphServerOptions } from './serveSubgraph.js';
export type { AgencySubgraph, SubgraphContext } from './types.js';
export { commonSdl, commonSdlPath, loadSubgraphTypeDefs, subgraphSdlSource } from './loadSdl.js';
export { DateScalar, OreScalar, PersonnummerScalar, sharedScalarResolvers } from './scalars.js';
export { readGatewayPublicKey } from '../identity/pki/gatewaySigningKey.js';
export type { AgencyIdentity, CallerContext } from '../identity/callerContext.js';
export { MemoryReplayCache } from '../identity/replayCache.js';
export type { ReplayCache } from '../identity/replayCache.js';
export { AgreementsConfigError, loadAgreements, parseAgreements } from '../policy/agreements.js';
export type { Agreement } from '../policy/agreements.js';
export type { PersonalDataCategory, Purpose } from '../policy/purposes.js';
export { UndeclaredPersonalFieldError } from '../policy/personalFieldCatalogue.js';
export { GatewayError, isGatewayError } from '../errors/index.js';
export type { GatewayErrorCode } from '../errors/index.js';
export { createLogger } from '../observability/logger.js';
export type { Logger } from '../observability/logger.js';
export { startTracing } from '../observability/tracing.js';
export type { HttpTimeouts } from '../config/listenerConfig.js';
