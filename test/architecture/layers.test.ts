import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { readImportGraph, type FileImport } from './importGraph.js';
import {
  ALLOWED_UPWARD,
  APOLLO_IMPORTERS,
  describeCycles,
  describeImports,
  folderCycles,
  folderOf,
  LAYERS,
  layersTable,
  MAX_UPWARD_IMPORTS,
  shownFolder,
  strayApolloImports,
  unplacedFolders,
  upwardImports,
  type Layer,
} from './layers.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const graph = readImportGraph(REPO, ['src', 'resolvers']);

describe('the layering rules fail where they should (a made-up graph)', () => {
  const layers: Layer[] = [
    { folders: ['errors'], why: 'lowest' },
    { folders: ['policy', 'identity'], why: 'siblings' },
    { folders: ['audit'], why: 'above them' },
  ];
  const edge = (from: string, to: string): FileImport => ({ from, to, external: false });
  const apollo = (from: string): FileImport => ({ from, to: '@apollo/server', external: true });

  it('reports a cycle between folders with the file-level imports of each step', () => {
    const cycles = folderCycles([
      edge('src/audit/log.ts', 'src/policy/rule.ts'),
      edge('src/policy/rule.ts', 'src/identity/caller.ts'),
      edge('src/identity/caller.ts', 'src/audit/entry.ts'),
      edge('src/audit/log.ts', 'src/errors/codes.ts'),
    ]);
    expect(cycles.map((cycle) => cycle.folders)).toEqual([['audit', 'policy', 'identity', 'audit']]);
    expect(cycles[0]!.steps.map((step) => step.imports)).toEqual([
      ['src/audit/log.ts → src/policy/rule.ts'],
      ['src/policy/rule.ts → src/identity/caller.ts'],
      ['src/identity/caller.ts → src/audit/entry.ts'],
    ]);
    expect(describeCycles(cycles)).toContain('src/identity/caller.ts → src/audit/entry.ts');
  });

  it('reports an import into a higher layer and one between two folders of one layer, not one into a lower layer', () => {
    const upward = upwardImports(
      [
        edge('src/errors/codes.ts', 'src/audit/entry.ts'),
        edge('src/policy/rule.ts', 'src/identity/caller.ts'),
        edge('src/audit/log.ts', 'src/errors/codes.ts'),
        edge('src/audit/log.ts', 'src/audit/entry.ts'),
      ],
      layers,
    );
    expect(upward.map((item) => `${item.fromFolder}->${item.toFolder}`)).toEqual(['errors->audit', 'policy->identity']);
  });

  it('reports an @apollo import outside the adapter, the subgraph kit and the root', () => {
    const stray = strayApolloImports(
      [apollo('src/apollo/plugin.ts'), apollo('src/subgraph-kit/serve.ts'), apollo('src/createGateway.ts'), apollo('src/pipeline/stages.ts'), apollo('src/createGatewayHelpers.ts')],
      APOLLO_IMPORTERS,
    );
    expect(stray.map((item) => item.from)).toEqual(['src/pipeline/stages.ts', 'src/createGatewayHelpers.ts']);
  });

  it('reports a folder no layer names', () => {
    expect(unplacedFolders([edge('src/audit/log.ts', 'src/errors/codes.ts'), edge('src/newthing/x.ts', 'src/errors/codes.ts')], layers)).toEqual(['newthing']);
  });

  it('folds files into folders: src/ files are the root, resolvers/ has a folder per schema, the audit API keeps its resolvers', () => {
    expect([folderOf('src/createGateway.ts'), folderOf('src/audit/store/sql.ts'), folderOf('resolvers/csn/index.ts'), folderOf('resolvers/audit/index.ts'), folderOf('test/support/stack.ts')]).toEqual(
      ['root', 'audit', 'resolvers/csn', 'audit-api', null],
    );
  });
});

describe('the layers of src/ and resolvers/', () => {
  const upward = upwardImports(graph, LAYERS);
  const unexplained = upward.filter((item) => !ALLOWED_UPWARD.some((allowed) => allowed.from === item.from && allowed.to === item.to));
  const folders = [...new Set(graph.map((item) => folderOf(item.from)).filter((folder): folder is string => folder !== null))];

  it('reads the real sources', () => {
    // A scanner that found nothing would pass every rule below.
    expect(graph.filter((item) => !item.external).length).toBeGreaterThan(500);
    expect(graph.some((item) => item.from === 'src/apollo/partnerApi.ts' && item.to.startsWith('@apollo/'))).toBe(true);
  });

  it('gives every folder its place in LAYERS', () => {
    expect(unplacedFolders(graph, LAYERS)).toEqual([]);
  });

  it("is mirrored in README's Layers table", () => {
    const readme = readFileSync(path.join(REPO, 'README.md'), 'utf8');
    expect(readme, `README.md's "### Layers" table should read:\n${layersTable(LAYERS)}`).toContain(layersTable(LAYERS));
  });

  it(`lets at most ${MAX_UPWARD_IMPORTS} imports run up the layers, each with its reason and each still made`, () => {
    expect(ALLOWED_UPWARD.length).toBeLessThanOrEqual(MAX_UPWARD_IMPORTS);
    for (const allowed of ALLOWED_UPWARD) {
      expect(allowed.why.length, `${allowed.from}: say why`).toBeGreaterThan(20);
      expect(
        upward.some((item) => item.from === allowed.from && item.to === allowed.to),
        `${allowed.from} → ${allowed.to} no longer runs up: remove it from ALLOWED_UPWARD`,
      ).toBe(true);
    }
  });

  for (const folder of LAYERS.flatMap((layer) => layer.folders).filter((name) => folders.includes(name))) {
    it(`${shownFolder(folder).replaceAll('`', '')} imports lower layers only`, () => {
      const found = unexplained.filter((item) => item.fromFolder === folder);
      expect(found, `imports into the same or a higher layer:\n${describeImports(found)}`).toEqual([]);
    });
  }

  it('has no cycle between folders', () => {
    const cycles = folderCycles(graph);
    expect(cycles, `cycles:\n${describeCycles(cycles)}`).toEqual([]);
  });

  it(`imports @apollo/* only in ${APOLLO_IMPORTERS.join(', ')}`, () => {
    const stray = strayApolloImports(graph, APOLLO_IMPORTERS);
    expect(stray, describeImports(stray)).toEqual([]);
  });

  it(`has no import running up the layers but the ${ALLOWED_UPWARD.length} allowed`, () => {
    expect(unexplained, describeImports(unexplained)).toEqual([]);
  });
});
