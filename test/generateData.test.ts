import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseGenerateDataArgs } from '../src/cli/generateData.js';
import { UsageError } from '../src/cli/commandFailure.js';
import { DEFAULT_DATA_DIR, REPO_ROOT } from '../src/config/paths.js';

describe('generate-data arguments', () => {
  it('defaults to 10 000 persons, seed 1 and data/', () => {
    expect(parseGenerateDataArgs([], {})).toEqual({ persons: 10_000, seed: 1, out: DEFAULT_DATA_DIR, force: false });
  });

  it('takes DATA_DIR when --out is absent, and --out over DATA_DIR', () => {
    expect(parseGenerateDataArgs([], { DATA_DIR: '/tmp/elsewhere' })).toMatchObject({ out: '/tmp/elsewhere' });
    expect(parseGenerateDataArgs(['--out', 'build/data'], { DATA_DIR: '/tmp/elsewhere' })).toMatchObject({ out: path.join(REPO_ROOT, 'build/data') });
  });

  it('reads every flag', () => {
    expect(parseGenerateDataArgs(['--persons', '250', '--seed=0', '--out', '/tmp/x', '--force'], {})).toEqual({
      persons: 250,
      seed: 0,
      out: '/tmp/x',
      force: true,
    });
  });

  it.each([
    ['a non-integer size', ['--persons', '1.5']],
    ['a size that is not a number', ['--persons', 'many']],
    ['a size of zero', ['--persons', '0']],
    ['a negative size', ['--persons=-3']],
    ['a seed above 32 bits', ['--seed', '4294967296']],
    ['an unknown flag', ['--people', '10']],
    ['a positional argument', ['10000']],
    ['a flag without its value', ['--persons']],
    ['an empty --out', ['--out', '']],
  ])('refuses %s', (_name, argv) => {
    expect(() => parseGenerateDataArgs(argv, {})).toThrow(UsageError);
  });

  it('exits with code 2 and the usage on a bad argument', () => {
    const tsx = path.join(REPO_ROOT, 'node_modules', '.bin', 'tsx');
    const result = spawnSync(tsx, ['src/cli/generateData.ts', '--persons', 'abc'], { cwd: REPO_ROOT, encoding: 'utf8' });
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('Usage:');
  });
});
