import { runAuditCli } from '../../src/cli/audit.js';

/** `npm run audit -- <argv>` in process, with `env` as its environment: exit code and what it printed to each stream. */
export async function auditCli(env: NodeJS.ProcessEnv, ...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runAuditCli(
    argv,
    env,
    (line) => out.push(line),
    (line) => err.push(line),
  );
  return { code, out: out.join('\n'), err: err.join('\n') };
}
