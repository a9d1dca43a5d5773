import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { REPO_ROOT } from '../config/paths.js';

export interface ServiceProcess {
  readonly name: string;
  readonly child: ChildProcess;
  /** The first JSON line the service printed with "ready" in its msg. */
  readonly ready: Promise<Record<string, unknown>>;
  stop(): Promise<void>;
}

/**
 * Starts a TypeScript entry point as its own Node process (through tsx) and resolves `ready` when
 * it announces itself; its output is passed through, prefixed with its name.
 */
export function startService(name: string, entry: string, args: readonly string[], env: NodeJS.ProcessEnv): ServiceProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', entry, ...args], {
    cwd: REPO_ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const ready = new Promise<Record<string, unknown>>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      try {
        const parsed = JSON.parse(line) as Record<string, unknown>;
        if (typeof parsed['msg'] === 'string' && parsed['msg'].endsWith('ready')) resolve(parsed);
      } catch {
        // not a JSON line: plain output
      }
      process.stdout.write(`[${name}] ${line}\n`);
    });
    createInterface({ input: child.stderr! }).on('line', (line) => process.stderr.write(`[${name}] ${line}\n`));
    child.once('exit', (code, signal) => reject(new Error(`${name} exited before it was ready (${signal ?? `code ${code}`})`)));
  });
  ready.catch(() => undefined);
  return {
    name,
    child,
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
