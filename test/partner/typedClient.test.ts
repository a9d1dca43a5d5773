import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { PARTNER_CLIENT_OUTPUT } from '../../codegen.js';
import { REPO_ROOT } from '../../src/config/paths.js';

// The examples in a scratch copy of the repository: generated with the partner-client part of
// codegen.ts and type-checked with the repository's compiler options. An operation edit that the
// example code no longer fits must fail there, as it would in a partner's build.
let dir: string;
const bin = (name: string) => path.join(REPO_ROOT, 'node_modules', '.bin', name);
const controlOperation = () => path.join(dir, 'examples', 'payment-control', 'operations.graphql');
const original = readFileSync(path.join(REPO_ROOT, 'examples', 'payment-control', 'operations.graphql'), 'utf8');

function run(command: string, args: string[]) {
  const result = spawnSync(command, args, { cwd: dir, encoding: 'utf8' });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}
const codegen = () => run(bin('graphql-codegen'), ['--config', 'codegen.json']);
const typecheck = () => run(bin('tsc'), ['--noEmit', '-p', 'tsconfig.json']);

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'typed-client-'));
  cpSync(path.join(REPO_ROOT, 'examples'), path.join(dir, 'examples'), { recursive: true, filter: (source) => !source.includes('__generated__') });
  cpSync(path.join(REPO_ROOT, 'schema', 'api.graphql'), path.join(dir, 'schema', 'api.graphql'));
  for (const shared of ['node_modules', 'src']) symlinkSync(path.join(REPO_ROOT, shared), path.join(dir, shared), 'dir');
  writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ type: 'module', private: true }));
  writeFileSync(path.join(dir, 'codegen.json'), JSON.stringify({ overwrite: true, silent: true, generates: { 'examples/__generated__/': PARTNER_CLIENT_OUTPUT } }));
  const tsconfig = JSON.parse(readFileSync(path.join(REPO_ROOT, 'tsconfig.json'), 'utf8'));
  // The samples build apart, against the built packages (test/packages/samples.test.ts).
  writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: tsconfig.compilerOptions, include: ['examples'], exclude: tsconfig.exclude }));
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

it('the generated client type-checks with the examples as they are', { timeout: 240_000 }, () => {
  expect(codegen()).toMatchObject({ status: 0 });
  const result = typecheck();
  expect(result.output).toBe('');
  expect(result.status).toBe(0);
});

it('an operation that no longer asks for a field the example reads fails the type check', { timeout: 240_000 }, () => {
  writeFileSync(controlOperation(), original.replace(/\n\s+earnedIncome\n/, '\n'));
  expect(codegen()).toMatchObject({ status: 0 });
  const result = typecheck();
  expect(result.status).not.toBe(0);
  expect(result.output).toMatch(/examples\/payment-control\/index\.ts\(\d+,\d+\): error TS2339/);
});

it('an operation asking for a field the API does not have fails generation', { timeout: 240_000 }, () => {
  writeFileSync(controlOperation(), original.replace('earnedIncome', 'earnedIncomes'));
  expect(codegen().status).not.toBe(0);
});
