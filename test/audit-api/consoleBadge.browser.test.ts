/// <reference lib="dom" />
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { DEV_PKCS12_PASSWORD } from '../../src/identity/pki/pkcs12.js';
import { cosigners } from '../../src/audit-api/logStatus.js';
import { formatSignerKey, formatVerifierKey, generateSeed, noteSigner, parseSignerKey, SIG_ED25519 } from '../../src/transparency/note.js';
import { launchChromium } from '../support/browser.js';
import { startStack, type Replica, type Stack } from '../support/stack.js';
import { witnessPool } from '../audit/witnessHarness.js';
import { auditClient } from './auditClient.js';

/**
 * The console's badge: the log's verification state from the audit API's `verification`
 * (hash chain, each chain's Merkle tree against its signed checkpoints, the witness quorum), in
 * Chromium at 1280×800 and at a phone's 390×844. Two gateways of one exchange, each with its own
 * log: one whose two witnesses (HTTPS, the development witness certificate) both cosign, one
 * whose second witness refuses every checkpoint, so its quorum of two is never met.
 */

const RESULTS = path.join(process.cwd(), 'test-results');
const QUERY = `query ($p: Personnummer!) { person(personnummer: $p) { name { givenName } benefits { benefit } } }`;

let stack: Stack;
let browser: Browser;
let witnessed: Replica;
let unwitnessed: Replica;
const pool = witnessPool();

/** A gateway of the stack whose log is cosigned by `witnesses` (running, with the log key they know) with a quorum of 2. */
async function replicaWith(name: string, refusing: boolean): Promise<Replica> {
  const keyPath = path.join(stack.dir, `${name}-note.key`);
  writeFileSync(keyPath, `${formatSignerKey(`access-log.${name}.test`, SIG_ED25519, generateSeed())}\n`, { mode: 0o600 });
  const signer = parseSignerKey(readFileSync(keyPath, 'utf8'));
  const tls = { cert: readFileSync(path.join(stack.certsDir, 'servers', 'witness.crt')), key: readFileSync(path.join(stack.certsDir, 'servers', 'witness.key')) };
  const imy = await pool.start('witness.imy.example/w1', [signer.verifier], undefined, { tls });
  // The refusing witness knows another key under the log's name: 403 for every checkpoint.
  const riksrevisionen = await pool.start('witness.riksrevisionen.example/w2', [refusing ? noteSigner(signer.name, SIG_ED25519, generateSeed()).verifier : signer.verifier], undefined, { tls });
  return stack.replica({
    AUDIT_TLOG_KEY_PATH: keyPath,
    AUDIT_WITNESSES: [imy, riksrevisionen].map((w) => `${w.url} ${formatVerifierKey(w.key.verifier)}`).join(';'),
    AUDIT_WITNESS_QUORUM: '2',
    AUDIT_WITNESS_CA_PATH: path.join(stack.certsDir, 'ca.crt'),
  });
}

/** Reads through the gateway, then waits until its newest tree head covers them and the witnesses have answered. */
async function readThrough(replica: Replica, official: string): Promise<void> {
  const subject = stack.sample.withBenefits;
  const client = stack.client('malmo-stad', { official, purpose: 'CASE_HANDLING', caseId: `SOC-2026-${official}`, subjects: [subject] }, replica.gateway.url);
  expect((await client.query(QUERY, { p: subject })).status).toBe(200);
  const log = replica.deps.openedAccessLog;
  // Tree sizes count records (one per request), not entries.
  const { records } = await log.store.lastHead(log.config.chainId);
  await vi.waitFor(
    async () => {
      await log.witnessing.settled();
      const [head] = await log.store.listTreeHeads(log.config.chainId, 1);
      expect(head?.size ?? 0).toBeGreaterThanOrEqual(records);
    },
    { timeout: 60_000, interval: 100 },
  );
  await log.witnessing.settled();
}

beforeAll(async () => {
  mkdirSync(RESULTS, { recursive: true });
  stack = await startStack({ persons: 300 });
  witnessed = await replicaWith('witnessed', false);
  unwitnessed = await replicaWith('unwitnessed', true);
  await readThrough(witnessed, 'tjm-81');
  await readThrough(unwitnessed, 'tjm-82');
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await stack?.close();
  await pool.stop();
});

async function withConsole(replica: Replica, viewport: { width: number; height: number }, use: (page: Page) => Promise<void>): Promise<void> {
  const origin = new URL(replica.gateway.url).origin;
  const context = await browser.newContext({
    viewport,
    ignoreHTTPSErrors: true,
    locale: 'sv-SE',
    clientCertificates: [{ origin, pfxPath: path.join(stack.certsDir, 'officials', 'imy-insp-1.p12'), passphrase: DEV_PKCS12_PASSWORD }],
  });
  try {
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(`${origin}/audit`);
    await expect.poll(() => page.getAttribute('#chain-status', 'data-state'), { timeout: 30_000 }).not.toMatch(/^(pending|checking)$/);
    await use(page);
    expect(errors).toEqual([]);
  } finally {
    await context.close();
  }
}

/** The header's parts do not overlap: the badge wraps within its own box, whatever the chain id or reason. */
async function headerOverlaps(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const boxes = ['h1', '#caller', '#chain-status', '#verify', '#language'].map((selector) => [selector, document.querySelector(selector)!.getBoundingClientRect()] as const);
    const overlaps: string[] = [];
    for (const [i, [a, boxA]] of boxes.entries())
      for (const [b, boxB] of boxes.slice(i + 1)) {
        if (boxA.left < boxB.right - 0.5 && boxB.left < boxA.right - 0.5 && boxA.top < boxB.bottom - 0.5 && boxB.top < boxA.bottom - 0.5) overlaps.push(`${a} × ${b}`);
      }
    return overlaps;
  });
}

describe('the console shows the log verified up to a cosigned checkpoint, or red with the reason', () => {
  it('the audit API says per chain: the tree verifies, the newest checkpoint, the one with the quorum, and who cosigned it', async () => {
    const api = auditClient({ ...stack, gateway: witnessed.gateway } as Stack, { official: 'imy-insp-1' });
    try {
      const answer = await api.graphql<{ verification: { transparency: any } }>(
        `{ verification { transparency { ok quorum witnesses trees { chainId ok problem verifiedAt verifiedSize checkpointSize checkpointTime cosignedSize cosignedTime witnessedSize witnesses quorumMet } } } }`,
      );
      expect(answer.errors).toBeUndefined();
      const log = witnessed.deps.openedAccessLog;
      expect(answer.data!.verification.transparency).toMatchObject({
        ok: true,
        quorum: 2,
        witnesses: ['witness.imy.example/w1', 'witness.riksrevisionen.example/w2'],
        trees: [{ chainId: log.config.chainId, ok: true, problem: null, witnesses: ['witness.imy.example/w1', 'witness.riksrevisionen.example/w2'], quorumMet: true }],
      });
      const tree = answer.data!.verification.transparency.trees[0];
      expect(tree.cosignedSize).toBeGreaterThan(0);
      expect(tree.witnessedSize).toBe(tree.cosignedSize);
      expect(tree.checkpointSize).toBeGreaterThanOrEqual(tree.cosignedSize);
      // The kept full verification: when it finished and the checkpoint up to which it checked every record.
      expect(Date.parse(tree.verifiedAt)).not.toBeNaN();
      expect(tree.verifiedSize).toBeGreaterThan(0);
      expect(tree.verifiedSize).toBeLessThanOrEqual(tree.checkpointSize);
      // What the badge counts is the stored checkpoint's verifying cosignatures.
      const head = await log.store.treeHead(log.config.chainId, tree.cosignedSize);
      expect(
        cosigners(
          head!,
          log.transparency.witnesses.flatMap((w) => w.verifiers),
        ),
      ).toEqual(['witness.imy.example/w1', 'witness.riksrevisionen.example/w2']);
    } finally {
      api.close();
    }
  });

  it('at 1280×800: green, the time of the verification, up to the checkpoint it covered, 2 of 2 witnesses; in English on request', async () => {
    await withConsole(witnessed, { width: 1280, height: 800 }, async (page) => {
      expect(await page.getAttribute('#chain-status', 'data-state')).toBe('ok');
      expect(await page.getAttribute('#chain-status', 'class')).toBe('badge ok');
      expect(await page.textContent('#chain-status')).toMatch(/^Loggen verifierad ✓ (?:\d{4}-\d{2}-\d{2} )?\d{2}:\d{2}:\d{2} t\.o\.m\. kontrollpunkt \d+ · medsignerad av 2 av 2 vittnen$/);
      expect(await page.getAttribute('#chain-status', 'title')).toContain('witness.imy.example/w1, witness.riksrevisionen.example/w2');
      expect(await headerOverlaps(page)).toEqual([]);
      await page.screenshot({ path: path.join(RESULTS, 'audit-console-badge-1280.png'), clip: { x: 0, y: 0, width: 1280, height: 200 } });
      await page.click('#language');
      await expect.poll(() => page.textContent('#chain-status')).toMatch(/^Log verified ✓ (?:\d{4}-\d{2}-\d{2} )?\d{2}:\d{2}:\d{2} up to checkpoint \d+ · cosigned by 2 of 2 witnesses$/);
    });
  });

  it('at a phone width the badge stays within the screen', async () => {
    await withConsole(witnessed, { width: 390, height: 844 }, async (page) => {
      expect(await page.getAttribute('#chain-status', 'data-state')).toBe('ok');
      const box = await page.evaluate(() => {
        const rect = document.querySelector('#chain-status')!.getBoundingClientRect();
        return { left: rect.left, right: rect.right, scrollWidth: document.documentElement.scrollWidth };
      });
      expect(box.left).toBeGreaterThanOrEqual(0);
      expect(box.right).toBeLessThanOrEqual(390);
      expect(box.scrollWidth).toBeLessThanOrEqual(390);
      expect(await headerOverlaps(page)).toEqual([]);
      await page.screenshot({ path: path.join(RESULTS, 'audit-console-badge-phone.png'), clip: { x: 0, y: 0, width: 390, height: 260 } });
    });
  });

  it('red, with the reason, when a witness refuses and the quorum is missing', async () => {
    const api = auditClient({ ...stack, gateway: unwitnessed.gateway } as Stack, { official: 'imy-insp-1' });
    try {
      const answer = await api.graphql<{ verification: { transparency: any } }>(`{ verification { transparency { ok trees { ok cosignedSize witnessedSize witnesses quorumMet } } } }`);
      expect(answer.data!.verification.transparency).toMatchObject({
        ok: false,
        trees: [{ ok: true, cosignedSize: null, witnessedSize: expect.any(Number), witnesses: ['witness.imy.example/w1'], quorumMet: false }],
      });
    } finally {
      api.close();
    }
    await withConsole(unwitnessed, { width: 1280, height: 800 }, async (page) => {
      expect(await page.getAttribute('#chain-status', 'data-state')).toBe('quorum-missing');
      expect(await page.getAttribute('#chain-status', 'class')).toBe('badge bad');
      const chain = unwitnessed.deps.openedAccessLog.config.chainId;
      expect(await headerOverlaps(page)).toEqual([]);
      expect(await page.textContent('#chain-status')).toMatch(new RegExp(`^Vittneskvorum SAKNAS i ${chain}: 1 av 2 vittnen har medsignerat kontrollpunkt \\d+$`));
      await page.screenshot({ path: path.join(RESULTS, 'audit-console-badge-quorum-missing.png'), clip: { x: 0, y: 0, width: 1280, height: 200 } });
    });
  });
});
