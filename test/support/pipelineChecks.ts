import { readFileSync } from 'node:fs';
import { buildSchema } from 'graphql';
import { DEV_AGREEMENTS_PATH } from '../../src/config/gatewayConfig.js';
import { loadLimitsConfig } from '../../src/config/limitsConfig.js';
import { DEFAULT_API_SCHEMA_PATH, DEFAULT_SUPERGRAPH_PATH } from '../../src/config/paths.js';
import { operationChecks } from '../../src/checks/index.js';
import { createPurposeJudge } from '../../src/checks/purpose.js';
import { loadAgreements } from '../../src/policy/agreements.js';
import { readPersonalFieldCatalogue } from '../../src/policy/personalFieldCatalogue.js';

/** The reference supergraph's schema, catalogue and development agreements, with the gateway's checks over them, for tests of the pipeline's stages without a server. */
export const schema = buildSchema(readFileSync(DEFAULT_API_SCHEMA_PATH, 'utf8'));
export const catalogue = readPersonalFieldCatalogue(readFileSync(DEFAULT_SUPERGRAPH_PATH, 'utf8'));
export const agreements = loadAgreements(DEV_AGREEMENTS_PATH);
/** The case's one subject, and a synthetic number outside it. */
export const SUBJECT = '197803304117';
export const OUTSIDE_CASE = '191212121212';
/** Malmö stad's official, handling case SOC-1 about SUBJECT. */
export const caller = {
  agency: { id: 'malmo-stad', name: 'Malmö stad', organisationNumber: '212000-1124' },
  official: 'handlaggare-1',
  purpose: 'CASE_HANDLING' as const,
  caseId: 'SOC-1',
  subjects: [SUBJECT],
  requestId: 'req-1',
  certificateThumbprint: 't',
  tokenId: 'j',
};
export const checks = operationChecks({
  mode: 'development',
  limits: loadLimitsConfig({}).operation,
  catalogue: () => catalogue,
  judge: createPurposeJudge({ catalogue: () => catalogue, agreements: () => agreements, today: () => '2026-06-01' }),
});
