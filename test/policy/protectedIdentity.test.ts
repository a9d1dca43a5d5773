import { describe, expect, it } from 'vitest';
import type { Agreement } from '../../src/policy/agreements.js';
import { grantsProtectedIdentityAccess, hasProtectedIdentity, withheldForProtectedIdentity } from '../../src/policy/protectedIdentity.js';
import type { PersonalDataCategory } from '../../src/policy/purposes.js';

/**
 * The protected-identity decision, in one place for the gateway (which access it signs), the
 * subgraph kit (which field it withholds) and Skatteverket's register (who is protected).
 */
describe('who has protected identity', () => {
  it.each([
    ['NONE', false],
    ['SEKRETESSMARKERING', true],
    ['SKYDDAD_FOLKBOKFORING', true],
    ['A_MARKING_THIS_RELEASE_DOES_NOT_KNOW', true],
  ])('marking %s: protected %s', (marking, expected) => {
    expect(hasProtectedIdentity(marking)).toBe(expected);
  });
});

const agreement = (overrides: Partial<Agreement>): Agreement => ({
  id: 'AGR-TEST',
  client: 'malmo-stad',
  owner: 'skatteverket',
  categories: new Set(['ADDRESS_CONTACT']),
  purposes: new Set(['CASE_HANDLING']),
  legalBasis: 'SFS 2001:453 12 kap. 1 §',
  processingRegister: { recordId: 'REG-1', version: 1 },
  validFrom: '2025-01-01',
  validUntil: '2030-12-31',
  protectedIdentityAccess: true,
  ...overrides,
});

describe("which agreements grant access to protected persons' address data", () => {
  const request = { client: 'malmo-stad', owner: 'skatteverket', purpose: 'CASE_HANDLING' } as const;
  it.each([
    ['an agreement with protectedIdentityAccess covering address data for the purpose', [agreement({})], true],
    ['an agreement without protectedIdentityAccess', [agreement({ protectedIdentityAccess: false })], false],
    ['protectedIdentityAccess for another category only', [agreement({ categories: new Set(['INCOME']) })], false],
    ['protectedIdentityAccess for another purpose only', [agreement({ purposes: new Set(['STATISTICS']) })], false],
    ['protectedIdentityAccess for another client only', [agreement({ client: 'csn' })], false],
    ['no agreement', [], false],
  ])('%s: %s', (_what, inForce, expected) => {
    expect(grantsProtectedIdentityAccess(inForce, request)).toBe(expected);
  });
});

describe('whether a field is withheld for protected identity', () => {
  const cases: ReadonlyArray<readonly [what: string, category: PersonalDataCategory, access: boolean, subject: boolean | 'no register', withheld: boolean, asked: boolean]> = [
    ['address data of a protected person, no access', 'ADDRESS_CONTACT', false, true, true, true],
    ['address data of an unprotected person, no access', 'ADDRESS_CONTACT', false, false, false, true],
    ['address data, no register to ask: counted as protected', 'ADDRESS_CONTACT', false, 'no register', true, false],
    ['address data of a protected person, with access', 'ADDRESS_CONTACT', true, true, false, false],
    ['income of a protected person, no access', 'INCOME', false, true, false, false],
  ];
  it.each(cases)('%s', async (_what, category, protectedIdentityAccess, subject, withheld, asked) => {
    let lookups = 0;
    const subjectIsProtected =
      subject === 'no register'
        ? undefined
        : async () => {
            lookups++;
            return subject;
          };
    expect(await withheldForProtectedIdentity({ category, protectedIdentityAccess, subjectIsProtected })).toBe(withheld);
    expect(lookups).toBe(asked ? 1 : 0);
  });
});
