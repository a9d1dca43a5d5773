import { describe, expect, it } from 'vitest';
import { admitted, type IdentifiedRequest } from '../../src/pipeline/stages.js';

describe('admitted', () => {
  const identified: IdentifiedRequest = {
    requestId: 'request-1',
    caller: {
      agency: { id: 'malmo-stad', organisationNumber: '212000-1124', name: 'Malmö stad' },
      official: 'official-7',
      purpose: 'CASE_HANDLING',
      caseId: 'CASE-1',
      subjects: [],
      requestId: 'request-1',
      certificateThumbprint: 'thumbprint',
      tokenId: 'token-1',
    },
  };

  it('carries exactly the identified request (the same caller object) and marks it admitted', () => {
    const request = admitted(identified);
    expect(request).toEqual({ requestId: 'request-1', caller: identified.caller, admitted: true });
    // The caller is passed on, not copied: the context signer remembers its claims per caller object.
    expect(request.caller).toBe(identified.caller);
  });
});
