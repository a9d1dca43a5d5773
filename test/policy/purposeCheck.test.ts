import { readFileSync } from 'node:fs';
import { buildSchema, getOperationAST, parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import { DEV_AGREEMENTS_PATH } from '../../src/config/gatewayConfig.js';
import { DEFAULT_API_SCHEMA_PATH, DEFAULT_SUPERGRAPH_PATH } from '../../src/config/paths.js';
import { createOperationAnalyser } from '../../src/pipeline/operationAnalysis.js';
import { createPurposeJudge, purposeCheck } from '../../src/checks/purpose.js';
import type { OperationCheck } from '../../src/pipeline/stages.js';
import { loadAgreements, type Agreement } from '../../src/policy/agreements.js';
import { readPersonalFieldCatalogue } from '../../src/policy/personalFieldCatalogue.js';
import type { Purpose } from '../../src/policy/purposes.js';

const schema = buildSchema(readFileSync(DEFAULT_API_SCHEMA_PATH, 'utf8'));
const catalogue = readPersonalFieldCatalogue(readFileSync(DEFAULT_SUPERGRAPH_PATH, 'utf8'));
const document = parse('query ($p: Personnummer!) { person(personnummer: $p) { name { givenName } sicknessBenefit { outcome } } }');
const operation = getOperationAST(document)!;
const MALMO = { id: 'malmo-stad', name: 'Malmö stad', organisationNumber: '212000-1124' };

const analyse = createOperationAnalyser({ catalogue });

function codesFor(check: OperationCheck, purpose: Purpose = 'CASE_HANDLING'): string[] {
  const caller = { agency: MALMO, official: 'handlaggare-1', purpose, caseId: 'SOC-1', subjects: [], requestId: 'req-1', certificateThumbprint: 't', tokenId: 'j' };
  const refusal = check({ schema, document, operation, operationName: null, documentHash: '', variables: {}, caller, analysis: analyse(schema, document, operation) });
  if (refusal instanceof Promise) throw new Error('the purpose check is synchronous');
  return (refusal?.errors ?? []).map((e) => `${String(e.extensions['field'])}:${String(e.extensions['reason'])}`);
}

/**
 * The purpose check's verdict for an operation is kept, so it must be judged again whenever what
 * it rests on changes: the caller's purpose, the agreements (a reload) and the day.
 */
describe('purpose check verdicts', () => {
  it('follows a reload of the agreements, the day and the purpose for the same operation', () => {
    let agreements: readonly Agreement[] = loadAgreements(DEV_AGREEMENTS_PATH);
    let today = '2026-06-01';
    const check = purposeCheck(createPurposeJudge({ catalogue: () => catalogue, agreements: () => agreements, today: () => today }));
    expect(codesFor(check)).toEqual(['Person.sicknessBenefit:NO_AGREEMENT']);

    const health: Agreement = { ...agreements.find((a) => a.id === 'AGR-MALMO-FK-2025-01')!, id: 'AGR-MALMO-FK-HEALTH', categories: new Set(['HEALTH_RELATED']) };
    agreements = [...agreements, health];
    expect(codesFor(check)).toEqual([]);

    today = '2029-01-01';
    expect(codesFor(check)).toEqual(['Person.name:AGREEMENT_EXPIRED', 'Person.sicknessBenefit:AGREEMENT_EXPIRED']);

    today = '2026-06-01';
    expect(codesFor(check, 'STATISTICS')).toEqual(['Person.name:PURPOSE_NOT_DECLARED', 'Person.sicknessBenefit:PURPOSE_NOT_DECLARED']);
    expect(codesFor(check, 'CASE_HANDLING')).toEqual([]);
  });
});
