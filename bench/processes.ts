/** Child processes of the benchmark: each contender and subgraph in its own Node process. */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { REPO_ROOT } from '../src/config/paths.js';

export interface BenchProcess {
  readonly name: string;
  readonly child: ChildProcess;
  readonly pid: number;
  /** The first JSON line with a msg ending in "ready". */
  readonly ready: Promise<Record<string, unknown>>;
  stop(): Promise<void>;
}

/**
 * Starts a TypeScript entry through tsx. Started unpinned so start-up (compiling, loading the
 * supergraph) uses both cores; the caller pins it with `pin()` before anything is measured.
 */
export function startProcess(
  name: string,
  entry: string,
  options: { args?: readonly string[]; env?: NodeJS.ProcessEnv; nodeArgs?: readonly string[]; ipc?: boolean; verbose?: boolean } = {},
): BenchProcess {
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), '--import', 'tsx', entry, ...(options.args ?? [])], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe', ...(options.ipc ? (['ipc'] as const) : [])],
  });
  const ready = new Promise<Record<string, unknown>>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      try {
        const parsed = JSON.parse(line) as Record<string, unknown>;
        if (typeof parsed['msg'] === 'string' && parsed['msg'].endsWith('ready')) return resolve(parsed);
      } catch {
        // plain output
      }
      if (options.verbose) process.stderr.write(`[${name}] ${line}\n`);
    });
    createInterface({ input: child.stderr! }).on('line', (line) => process.stderr.write(`[${name}] ${line}\n`));
    child.once('exit', (code, signal) => reject(new Error(`${name} exited before it was ready (${signal ?? `code ${code}`})`)));
  });
  ready.catch(() => undefined);
  return {
    name,
    child,
    pid: child.pid!,
    ready,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        child.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
        child.kill('SIGTERM');
      }),
  };
}
