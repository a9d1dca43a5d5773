import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { REPO_ROOT } from '../config/paths.js';

export interface ServiceProcess {
  readonly name: string;
  readonly child: ChildProcess;
  readonly pid: number;
  /** The first JSON line the service printed with a msg ending in "ready". */
  readonly ready: Promise<Record<string, unknown>>;
  stop(): Promise<void>;
}

export interface ServiceOptions {
  readonly args?: readonly string[];
  readonly env?: NodeJS.ProcessEnv;
  /** Node flags before the entry (e.g. `--cpu-prof`). */
  readonly nodeArgs?: readonly string[];
  /** Open an IPC channel to the child. */
  readonly ipc?: boolean;
  /** Pass the service's standard output through, prefixed with its name (default true). */
  readonly echoStdout?: boolean;
  /** Kill the process and reject `ready` if it has not announced itself by then (default: wait for ever). */
  readonly readyTimeoutMs?: number;
}

/**
 * Starts a TypeScript entry point as its own Node process (through tsx) and resolves `ready` when
 * it announces itself; its standard error is always passed through, prefixed with its name.
 */
export function startService(name: string, entry: string, options: ServiceOptions = {}): ServiceProcess {
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), '--import', 'tsx', entry, ...(options.args ?? [])], {
    cwd: REPO_ROOT,
    env: options.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe', ...(options.ipc ? (['ipc'] as const) : [])],
  });
  const echo = options.echoStdout ?? true;
  const ready = new Promise<Record<string, unknown>>((resolve, reject) => {
    const limit = options.readyTimeoutMs;
    // A service that hangs before it is ready must not hang its caller (a CI step, say) with it.
    const timer =
      limit === undefined
        ? undefined
        : setTimeout(() => {
            reject(new Error(`${name} did not announce it was ready within ${limit / 1000} s`));
            child.kill('SIGKILL');
          }, limit);
    createInterface({ input: child.stdout! }).on('line', (line) => {
      try {
        const parsed = JSON.parse(line) as Record<string, unknown>;
        if (typeof parsed['msg'] === 'string' && parsed['msg'].endsWith('ready')) {
          clearTimeout(timer);
          resolve(parsed);
        }
      } catch {
        // not a JSON line: plain output
      }
      if (echo) process.stdout.write(`[${name}] ${line}\n`);
    });
    createInterface({ input: child.stderr! }).on('line', (line) => process.stderr.write(`[${name}] ${line}\n`));
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited before it was ready (${signal ?? `code ${code}`})`));
    });
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
