export { createAgencyClient } from './createAgencyClient.js';
export type { AgencyClient, AgencyClientOptions, GraphQLResponse, QueryOptions } from './createAgencyClient.js';
export { mintRequestToken, organisationNumberOfCertificate } from './mintRequestToken.js';
export type { MintRequestTokenOptions, RequestTokenClaims } from './mintRequestToken.js';
export { runOperation } from './runOperation.js';
export type { TypedDocument, RunOperationOptions } from './runOperation.js';
export { hsaIdOfCertificate, mintOfficerToken } from './mintOfficerToken.js';
export type { MintOfficerTokenOptions } from './mintOfficerToken.js';
export type { Purpose } from '../policy/purposes.js';
