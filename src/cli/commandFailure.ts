/**
 * A mistake in how a command was called: exit code 2, with the usage. Every command throws this
 * one class, so `instanceof` in any command's failure handling recognises them all.
 */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/**
 * What every command prints when it stops on an error, and the exit code: 2 with the usage for a
 * UsageError, 1 for anything else (with the system's error code, ECONNREFUSED and the like, when
 * there is one), always prefixed with the command's name.
 */
export function reportCommandFailure(command: string, usage: string, error: unknown, err: (line: string) => void): 1 | 2 {
  if (error instanceof UsageError) {
    err(`${command}: ${error.message}\n\n${usage}`);
    return 2;
  }
  const cause = (error as { cause?: { code?: string } }).cause?.code;
  err(`${command}: ${(error as Error).message}${cause ? ` (${cause})` : ''}`);
  return 1;
}
