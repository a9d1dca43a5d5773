import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/parseEnv.js';
import { buildCitizenReport, holdingRule } from '../../src/audit-api/citizenReport.js';
import { labelFromDescription } from '../../src/audit-api/vocabulary.js';
import { loadAuditApiConfig, type ConfidentialityRule } from '../../src/config/auditApiConfig.js';
import type { StoredEntry } from '../../src/audit/entry.js';
import { readAgencyRegistry } from '../../src/identity/index.js';
import { readPersonalFieldCatalogue } from '../../src/policy/personalFieldCatalogue.js';
import { loadSupergraphSdl } from '../../src/apollo/supergraph.js';
import { DEFAULT_SUPERGRAPH_PATH } from '../../src/config/paths.js';

const RULE: ConfidentialityRule = { id: 'FK-UTREDNING', purpose: 'PAYMENT_CONTROL', casePattern: '^FK-UTR-', holdUntil: '2026-03-01', reason: 'Ongoing investigation.' };

function stored(overrides: Partial<StoredEntry>): StoredEntry {
  return {
    chainId: 'c',
    seq: 1,
    hash: '1'.repeat(64),
    kind: 'access',
    time: '2026-01-10T10:00:00.000Z',
    requestId: 'r',
    clientAgencyOrgNumber: '202100-5521',
    clientAgencyId: 'forsakringskassan',
    official: 'fk-utredare-1',
    purpose: 'PAYMENT_CONTROL',
    legalBasis: '110 kap. 31 § socialförsäkringsbalken',
    processingRegisterRecordId: 'FK-RPU-0007',
    processingRegisterVersion: '12',
    caseId: 'FK-UTR-5',
    subjectEnc: 'v1.x',
    subjectHmac: 'h',
    field: 'Person.taxedIncome',
    owningAgency: 'skatteverket',
    outcome: 'released',
    outcomeCode: null,
    operationName: null,
    documentHash: 'a'.repeat(64),
    ...overrides,
  };
}

describe('citizen report: confidentiality rules', () => {
  const catalogue = readPersonalFieldCatalogue(loadSupergraphSdl(DEFAULT_SUPERGRAPH_PATH).sdl);
  const registry = readAgencyRegistry();
  const report = (now: string, showHeldBack = true) =>
    buildCitizenReport({
      subject: '197001012384',
      entries: [stored({}), stored({ seq: 2, caseId: 'FK-ANNAT-1' })],
      rules: [RULE],
      registry,
      catalogue,
      now: new Date(now),
      showHeldBack,
      scopeAgency: null,
    });

  it.each([
    ['the day before the disclosure date', '2026-02-28T23:59:59.000Z', 1, 1],
    ['on the disclosure date', '2026-03-01T00:00:00.000Z', 2, 0],
  ])('on %s shows %i read(s) and holds back %i', (_when, now, shown, held) => {
    const result = report(now);
    expect(result.reads).toHaveLength(shown);
    expect(result.heldBack.reduce((sum, h) => sum + h.entries, 0)).toBe(held);
  });

  it('names the agency and the category, never the official', () => {
    const result = report('2026-06-01T00:00:00.000Z');
    expect(result.reads[0]).toMatchObject({ agency: { id: 'forsakringskassan', name: 'Försäkringskassan' }, category: 'INCOME', purpose: 'PAYMENT_CONTROL' });
    expect(JSON.stringify(result)).not.toContain('fk-utredare-1');
  });

  it('matches a rule only when every condition it names holds', () => {
    expect(holdingRule(stored({ purpose: 'CASE_HANDLING' }), [RULE], '2026-01-01')).toBeUndefined();
    expect(holdingRule(stored({ caseId: 'X-FK-UTR-1' }), [RULE], '2026-01-01')).toBeUndefined();
    expect(holdingRule(stored({}), [RULE], '2026-01-01')).toBe(RULE);
  });
});

describe('audit API configuration', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'audit-config-'));
  const rules = (value: unknown) => {
    const file = path.join(dir, `rules-${Math.random()}.json`);
    writeFileSync(file, JSON.stringify(value));
    return file;
  };
  const problemsOf = (env: Record<string, string>): string[] => {
    try {
      loadAuditApiConfig(env);
    } catch (error) {
      if (error instanceof ConfigError) return [...error.problems];
      throw error;
    }
    return [];
  };

  it('reads the development rules and defaults', () => {
    const config = loadAuditApiConfig({});
    expect(config.anomalies).toMatchObject({ workingHours: { start: 7, end: 19 }, timeZone: 'Europe/Stockholm' });
    expect(config.confidentialityRules.length).toBeGreaterThan(0);
  });

  it.each([
    ['AUDIT_ANOMALY_BURST_FACTOR', { AUDIT_ANOMALY_BURST_FACTOR: '-2' }],
    ['AUDIT_ANOMALY_WORKING_HOURS', { AUDIT_ANOMALY_WORKING_HOURS: '19-07' }],
    ['AUDIT_ANOMALY_WORKING_HOURS', { AUDIT_ANOMALY_WORKING_HOURS: 'nine to five' }],
    ['AUDIT_ANOMALY_TIMEZONE', { AUDIT_ANOMALY_TIMEZONE: 'Mars/Olympus' }],
    ['AUDIT_ANOMALY_SUBJECTS_PER_CASE', { AUDIT_ANOMALY_SUBJECTS_PER_CASE: '0' }],
  ])('fails naming %s', (variable, env) => {
    expect(problemsOf(env).join('\n')).toContain(variable);
  });

  it.each([
    ['a rule without any condition', { rules: [{ id: 'A', holdUntil: '2030-01-01', reason: 'r' }] }],
    ['a bad date', { rules: [{ id: 'A', purpose: 'STATISTICS', holdUntil: '2030-13-45x', reason: 'r' }] }],
    ['an invalid case pattern', { rules: [{ id: 'A', casePattern: '(', holdUntil: '2030-01-01', reason: 'r' }] }],
    ['an unknown purpose', { rules: [{ id: 'A', purpose: 'GOSSIP', holdUntil: '2030-01-01', reason: 'r' }] }],
  ])('refuses confidentiality rules with %s, naming the variable and the member', (_name, value) => {
    const problems = problemsOf({ AUDIT_CONFIDENTIALITY_PATH: rules(value) });
    expect(problems.length).toBeGreaterThan(0);
    expect(problems[0]).toMatch(/^AUDIT_CONFIDENTIALITY_PATH: .*rules\.0/);
  });
});

describe('plain-language labels from schema descriptions', () => {
  it.each([
    ['a Swedish (English) first line', 'Taxerad inkomst (Taxed income)\nTaxed income per income year.', { sv: 'Taxerad inkomst', en: 'Taxed income', description: 'Taxed income per income year.' }],
    ['a label line alone', 'Kön (Sex)', { sv: 'Kön', en: 'Sex', description: null }],
    ['no label line: the name in words', 'Debts in enforcement (utsökningsmål), largest first.', { sv: 'Debts', en: 'Debts', description: 'Debts in enforcement (utsökningsmål), largest first.' }],
    ['no description at all', undefined, { sv: 'Taxed income', en: 'Taxed income', description: null }],
  ])('reads %s', (_name, description, expected) => {
    const name = expected.en === 'Debts' ? 'debts' : 'taxedIncome';
    expect(labelFromDescription('Person.x', name, description)).toEqual({ key: 'Person.x', ...expected });
  });
});
