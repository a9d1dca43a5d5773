import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TestKeys } from './helpers.js';

/** Writes the two key files `npm run certs` would create, in a fresh temp directory. */
export function writeKeyFiles(keys: TestKeys): { dir: string; auditKeysPath: string; signingKeyPath: string } {
  const dir = mkdtempSync(path.join(tmpdir(), 'access-log-keys-'));
  const auditKeysPath = path.join(dir, 'audit-keys.json');
  const signingKeyPath = path.join(dir, 'gateway-signing.jwk.json');
  writeFileSync(auditKeysPath, JSON.stringify(keys.rawSubjectKeys));
  writeFileSync(signingKeyPath, JSON.stringify({ privateJwk: keys.privateJwk, publicJwk: keys.publicJwk }));
  return { dir, auditKeysPath, signingKeyPath };
}
