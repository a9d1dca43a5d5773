import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run as runEkonomisktBistand } from '../../examples/ekonomiskt-bistand/index.js';
import { run as runPaymentControl } from '../../examples/payment-control/index.js';
import { DEV_TRUSTED_DOCUMENTS_DIR } from '../../src/config/gatewayConfig.js';
import { startStack, type Stack } from '../support/stack.js';

// The examples as a partner runs them, against a production-mode gateway that runs only the
// documents in src/config/dev/trusted-documents/: the examples' operations are registered there.
let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ persons: 1500, trustedDocumentsDir: DEV_TRUSTED_DOCUMENTS_DIR });
});
afterAll(async () => {
  await stack?.close();
});

const options = () => ({ gatewayUrl: stack.gateway.url, certsDir: stack.certsDir, dataDir: stack.dataDir, log: (line: string) => lines.push(line) });
let lines: string[] = [];

describe.each(['text', 'documentId'] as const)('sending the document as %s', (send) => {
  it("ekonomiskt bistånd: collects the whole household's incomes in one request, and shows the denial for PAYMENT_CONTROL", async () => {
    lines = [];
    const result = await runEkonomisktBistand({ ...options(), send });
    expect(result.members.map((m) => m.role)).toEqual(['applicant', ...stack.sample.household.slice(1).map(() => 'household member')]);
    // Personal fields of every member came back: nobody was left outside the case's subjects.
    expect(result.members.every((m) => m.givenName !== null)).toBe(true);
    expect(result.denials).toEqual(
      expect.arrayContaining([
        { field: 'Person.studentAid', code: 'NO_AGREEMENT' },
        { field: 'Person.activitySupport', code: 'NO_AGREEMENT' },
        { field: 'Person.distraints', code: 'NO_AGREEMENT' },
      ]),
    );
    // Kronofogden's distraints came back for every member (none, or what is withheld each month).
    expect(result.members.every((m) => Number.isSafeInteger(m.distrainedPerMonth) && m.distrainedPerMonth >= 0)).toBe(true);
    expect(result.denials.map((d) => d.code)).not.toContain('DOCUMENT_NOT_REGISTERED');
    expect(lines.at(-1)).toContain('Person.studentAid NO_AGREEMENT');
    expect(lines.join('\n')).not.toMatch(/\d{8}-?\d{4}/);
  });

  it('payment control: income against paid housing allowance, and the denial for INFORMING_THE_INSURED', async () => {
    lines = [];
    const result = await runPaymentControl({ ...options(), send });
    expect(result.housingAllowancePaid).toBeGreaterThan(0);
    expect(typeof result.flagged).toBe('boolean');
    expect(result.denials).toEqual(
      expect.arrayContaining([
        { field: 'Person.taxedIncome', code: 'PURPOSE_NOT_ALLOWED' },
        { field: 'Person.studentAid', code: 'NO_AGREEMENT' },
      ]),
    );
    expect(lines.at(-1)).toContain('Person.taxedIncome PURPOSE_NOT_ALLOWED');
    expect(lines.join('\n')).not.toMatch(/\d{8}-?\d{4}/);
  });
});
