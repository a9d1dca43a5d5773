/** Child processes of the benchmark: each contender and subgraph in its own Node process. */
import { startService, type ServiceProcess } from '../src/cli/processes.js';

export type BenchProcess = ServiceProcess;

const STARTUP_TIMEOUT_MS = 180_000;

/**
 * Starts a TypeScript entry through tsx, quietly unless `verbose`. The child inherits this
 * process's CPU affinity: run.ts widens it while spawning (`startUnpinned`) so start-up uses both
 * cores, and pins the child before anything is measured.
 */
export function startProcess(
  name: string,
  entry: string,
  options: { args?: readonly string[]; env?: NodeJS.ProcessEnv; nodeArgs?: readonly string[]; ipc?: boolean; verbose?: boolean } = {},
): BenchProcess {
  return startService(name, entry, {
    env: { ...process.env, ...options.env },
    // Start-ups take seconds; a contender stuck for minutes would otherwise hang the run (and CI's quick mode).
    readyTimeoutMs: STARTUP_TIMEOUT_MS,
    echoStdout: options.verbose ?? false,
    ...(options.args ? { args: options.args } : {}),
    ...(options.nodeArgs ? { nodeArgs: options.nodeArgs } : {}),
    ...(options.ipc ? { ipc: true } : {}),
  });
}
