import { covers, type Agreement } from './agreements.js';
import type { PersonalDataCategory, Purpose } from './purposes.js';

/**
 * Protected identity (skyddade personuppgifter): a person with sekretessmarkering or skyddad
 * folkbokföring in the population register. Where such a person lives, and how to reach them, is
 * secret (offentlighets- och sekretesslagen 22 kap. 1 §; folkbokföringslagen 16 §): their address
 * and contact data are released only to a recipient whose agreement grants protected-identity
 * access for the purpose, and withheld from everyone else with PROTECTED_IDENTITY. The gateway
 * (which access it signs into each subgraph call), the subgraph kit (whether a field is withheld)
 * and the agency that holds the register (whether a person is protected) all decide it here.
 */

/** The category protected identity shields. */
export const PROTECTED_IDENTITY_CATEGORY: PersonalDataCategory = 'ADDRESS_CONTACT';

/**
 * Whether a register marking (`NONE`, `SEKRETESSMARKERING`, `SKYDDAD_FOLKBOKFORING`, ...) protects
 * the person. Anything but NONE does, a marking this release does not know included.
 */
export function hasProtectedIdentity(marking: string): boolean {
  return marking !== 'NONE';
}

/** Whether the agreements in force let `client` receive protected persons' address data from `owner` for `purpose`. */
export function grantsProtectedIdentityAccess(inForce: readonly Agreement[], request: { readonly client: string; readonly owner: string; readonly purpose: Purpose }): boolean {
  return inForce.some((a) => a.protectedIdentityAccess && covers(a, { ...request, category: PROTECTED_IDENTITY_CATEGORY }));
}

/**
 * Whether a field's value is withheld because its subject has protected identity. The subject is
 * looked up only when the answer depends on it; where nothing can answer (a subgraph without the
 * register) every subject counts as protected, since withholding is the error that discloses nothing.
 */
export async function withheldForProtectedIdentity(field: {
  readonly category: PersonalDataCategory;
  readonly protectedIdentityAccess: boolean;
  readonly subjectIsProtected: (() => Promise<boolean>) | undefined;
}): Promise<boolean> {
  if (field.category !== PROTECTED_IDENTITY_CATEGORY || field.protectedIdentityAccess) return false;
  return field.subjectIsProtected === undefined ? true : field.subjectIsProtected();
}
