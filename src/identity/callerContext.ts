import type { Purpose } from '../policy/purposes.js';

/** The agency behind a verified client certificate, as the registry knows it. */
export interface AgencyIdentity {
  /** Organisationsnummer, ten digits NNNNNN-NNNN. */
  readonly organisationNumber: string;
  /** Short stable id, e.g. `skatteverket`; also the subgraph name for data owners. */
  readonly id: string;
  readonly name: string;
}

/**
 * Who acts, in which case, for which purpose: established once per request from the mTLS
 * certificate and the bound request token, then carried to policy, audit and (signed) to subgraphs.
 */
export interface CallerContext {
  readonly agency: AgencyIdentity;
  /** Pseudonymous id of the acting official (the token's `sub`). */
  readonly official: string;
  readonly purpose: Purpose;
  /** Ärende id. */
  readonly caseId: string;
  /** Canonical 12-digit personnummer the case concerns. */
  readonly subjects: readonly string[];
  readonly requestId: string;
  /** base64url SHA-256 of the client certificate (RFC 8705 x5t#S256). */
  readonly certificateThumbprint: string;
  /** The request token's jti. */
  readonly tokenId: string;
}
