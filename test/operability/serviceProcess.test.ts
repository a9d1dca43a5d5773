import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startService } from '../../src/cli/processes.js';
import { ensureDevFederation } from '../../src/identity/pki/devFederation.js';
import { readAgencyRegistry } from '../../src/identity/registry.js';
import { writeStores } from '../../src/population/index.js';

describe('startService', () => {
  it('kills a service that does not announce it is ready in time, and says so', async () => {
    const service = startService('never-ready', 'test/support/fixtures/neverReady.ts', { echoStdout: false, readyTimeoutMs: 3000 });
    const exited = new Promise<NodeJS.Signals | null>((resolve) => service.child.once('exit', (_code, signal) => resolve(signal)));
    await expect(service.ready).rejects.toThrow('never-ready did not announce it was ready within 3 s');
    expect(await exited).toBe('SIGKILL');
  });

  describe('a quiet service', () => {
    let dir: string;
    // Certificates and a small population, made once (RSA keys take a while on a busy machine).
    beforeAll(async () => {
      dir = mkdtempSync(path.join(os.tmpdir(), 'quiet-subgraph-'));
      await ensureDevFederation({ dir: path.join(dir, 'certs'), registry: readAgencyRegistry() });
      await writeStores({ dir: path.join(dir, 'data'), persons: 300, seed: 3 });
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('a subgraph at LOG_LEVEL=warn still announces it is ready, as a pino JSON line with its URL', async () => {
      const service = startService('csn', 'src/cli/serveSubgraph.ts', {
        args: ['csn'],
        echoStdout: false,
        env: { ...process.env, LOG_LEVEL: 'warn', CERTS_DIR: path.join(dir, 'certs'), DATA_DIR: path.join(dir, 'data'), SUBGRAPH_PORT: '0' },
      });
      try {
        expect(await service.ready).toMatchObject({ level: 'info', service: 'csn', msg: 'subgraph ready', url: expect.stringMatching(/^https:\/\/127\.0\.0\.1:\d+\/graphql$/) });
      } finally {
        await service.stop();
      }
    });
  });
});
