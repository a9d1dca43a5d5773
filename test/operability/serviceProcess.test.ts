import { describe, expect, it } from 'vitest';
import { startService } from '../../src/cli/processes.js';

describe('startService', () => {
  it('kills a service that does not announce it is ready in time, and says so', async () => {
    const service = startService('never-ready', 'test/support/fixtures/neverReady.ts', { echoStdout: false, readyTimeoutMs: 3000 });
    const exited = new Promise<NodeJS.Signals | null>((resolve) => service.child.once('exit', (_code, signal) => resolve(signal)));
    await expect(service.ready).rejects.toThrow('never-ready did not announce it was ready within 3 s');
    expect(await exited).toBe('SIGKILL');
  });
});
