/**
 * Identity: client certificate → agency, request token → caller context, and the trust material
 * (CA, CRL) both rest on. The PKI tooling for development lives in ./pki and src/cli/certs.ts.
 */
export { authenticateRequest } from './authenticateRequest.js';
export type { RequestAuthentication } from './authenticateRequest.js';
export type { AgencyIdentity, CallerContext } from './callerContext.js';
export { certificateThumbprint, verifyClientCertificate, verifyTlsClient } from './clientCertificate.js';
export type { ClientCertificateInput, VerifiedClientCertificate } from './clientCertificate.js';
export {
  AGENCY_ROLES,
  AgencyRegistryError,
  AgencyRegistryHolder,
  DEV_AGENCY_REGISTRY_PATH,
  parseAgencyRegistry,
  readAgencyRegistry,
} from './registry.js';
export type { AgencyRegistry, AgencyRegistryHolderOptions, AgencyRole, AgencyStatus, RegisteredAgency } from './registry.js';
export { authenticateOperator, identifyOfficial } from './authenticateOfficial.js';
export type { IdentifiedOfficial, OfficialAuthentication } from './authenticateOfficial.js';
export {
  DEV_OFFICIAL_REGISTRY_PATH,
  OFFICIAL_ROLES,
  OfficialRegistryError,
  OfficialRegistryHolder,
  officialHoldsRole,
  openOfficialRegistry,
  parseOfficialRegistry,
  readOfficialRegistry,
} from './officialRegistry.js';
export type { OfficialRegistry, OfficialRole, RegisteredOfficial } from './officialRegistry.js';
export {
  assertRole,
  issueOfficerSession,
  officerAudience,
  OFFICER_SESSION_ISSUER,
  sessionVerificationKey,
  verifyOfficerToken,
} from './officerToken.js';
export type { OfficerTokenVerification, VerifiedOfficerToken } from './officerToken.js';
export { MemoryReplayCache } from './replayCache.js';
export type { ReplayCache, ReplayClaim } from './replayCache.js';
export {
  DEFAULT_TOKEN_AUDIENCE,
  MAX_TOKEN_LIFETIME_SECONDS,
  requestTokenFromHeaders,
  verifyRequestToken,
} from './requestToken.js';
export type { RequestTokenVerification } from './requestToken.js';
export { TrustStore, TrustStoreError } from './trustStore.js';
export type { ClientCertificateTrust, TrustStoreFiles, TrustStoreOptions } from './trustStore.js';
export { isDevelopmentCertificateAuthority } from './pki/devFederation.js';
export { readGatewaySigningKey, readGatewayPublicJwk, readGatewayPublicKey } from './pki/gatewaySigningKey.js';
export type { GatewaySigningKey } from './pki/gatewaySigningKey.js';
export { readAuditKeys } from './pki/auditKeys.js';
export type { AuditKeys } from './pki/auditKeys.js';
