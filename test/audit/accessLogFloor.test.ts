import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';
import { REPO_ROOT } from '../../src/config/paths.js';

const run = promisify(execFile);

// bench/accessLogFloor.ts is the measurement issue 15's and 16's targets are weighed against in
// docs/performance.md: it must keep inserting into the store's schema with the writer thread's
// statements as they are now, and hashing with the format's functions, or its floor is of a
// format nobody runs. Not a speed test: a few commits of each variant, and only that each one
// committed rows (the script itself checks that what it stored is what it inserted).
it.each([
  { entries: 5, fewestSubjects: 1, mostSubjects: 2 },
  { entries: 300, fewestSubjects: 50, mostSubjects: 50 },
])(
  "bench/accessLogFloor.ts commits records of $entries entries into the store's current schema with the writer's statements, and hashes them as the format does",
  async ({ entries, fewestSubjects, mostSubjects }) => {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'bench/accessLogFloor.ts', '--seconds', '0.05', '--batch', '4', '--persons', '50', '--entries', String(entries), '--json'], {
      cwd: REPO_ROOT,
    });
    const [cryptography, ...results] = stdout
      .trim()
      .split('\n')
      .map(
        (line) =>
          JSON.parse(line) as {
            part?: string;
            variant?: string;
            persons: number;
            batch: number;
            entriesPerRecord: number;
            subjectsPerRecord?: number;
            bodyBytes?: number;
            recordsPerSecond: number;
            cpuUsPerRecord: number;
          },
      );
    expect(cryptography).toMatchObject({ part: 'cryptography', entriesPerRecord: entries });
    expect(cryptography!.subjectsPerRecord).toBeGreaterThanOrEqual(fewestSubjects);
    expect(cryptography!.subjectsPerRecord).toBeLessThanOrEqual(mostSubjects);
    expect(cryptography!.cpuUsPerRecord).toBeGreaterThan(0);
    expect(results.map((r) => r.variant)).toEqual([
      'everything',
      'narrowest subject index rows instead',
      'no subject index rows',
      'no subject index or tree rows',
      'record rows alone (primary key only)',
    ]);
    for (const result of results) {
      expect(result).toMatchObject({ persons: 50, batch: 4, entriesPerRecord: entries });
      // The records stored are the drafted ones: a v3 body of `entries` items.
      expect(result.bodyBytes).toBeGreaterThan(entries * 20);
      expect(result.recordsPerSecond).toBeGreaterThan(0);
      expect(result.cpuUsPerRecord).toBeGreaterThan(0);
    }
  },
);
