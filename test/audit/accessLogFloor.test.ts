import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';
import { REPO_ROOT } from '../../src/config/paths.js';

const run = promisify(execFile);

// bench/accessLogFloor.ts is the measurement issue 16's targets are weighed against in
// docs/performance.md: it must keep inserting into the store's schema with the writer thread's
// statements as they are now, or its floor is of a schema nobody runs. Not a speed test: a few
// commits of each variant, and only that each one committed rows.
it("bench/accessLogFloor.ts commits every variant's rows into the store's current schema with the writer's statements", async () => {
  const { stdout } = await run(process.execPath, ['--import', 'tsx', 'bench/accessLogFloor.ts', '--seconds', '0.05', '--batch', '4', '--persons', '50', '--json'], { cwd: REPO_ROOT });
  const results = stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as { variant: string; persons: number; batch: number; recordsPerSecond: number; cpuUsPerRecord: number });
  expect(results.map((r) => r.variant)).toEqual([
    'everything',
    'narrowest subject index rows instead',
    'no subject index rows',
    'no subject index or tree rows',
    'record rows alone (primary key only)',
  ]);
  for (const result of results) {
    expect(result).toMatchObject({ persons: 50, batch: 4 });
    expect(result.recordsPerSecond).toBeGreaterThan(0);
    expect(result.cpuUsPerRecord).toBeGreaterThan(0);
  }
});
