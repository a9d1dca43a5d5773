/** Child processes of the benchmark: each contender and subgraph in its own Node process. */
import { startService, type ServiceProcess } from '../src/cli/processes.js';

export type BenchProcess = ServiceProcess;

/**
 * Starts a TypeScript entry through tsx, quietly unless `verbose`. Started unpinned so start-up
 * (compiling, loading the supergraph) uses both cores; the caller pins it before anything is measured.
 */
export function startProcess(
  name: string,
  entry: string,
  options: { args?: readonly string[]; env?: NodeJS.ProcessEnv; nodeArgs?: readonly string[]; ipc?: boolean; verbose?: boolean } = {},
): BenchProcess {
  return startService(name, entry, {
    env: { ...process.env, ...options.env },
    echoStdout: options.verbose ?? false,
    ...(options.args ? { args: options.args } : {}),
    ...(options.nodeArgs ? { nodeArgs: options.nodeArgs } : {}),
    ...(options.ipc ? { ipc: true } : {}),
  });
}
