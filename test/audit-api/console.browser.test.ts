import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../support/browser.js';
import { startStack, type Stack } from '../support/stack.js';
import { auditClient } from './auditClient.js';

/**
 * The console in a real browser: Debian's Chromium, headless, driven by playwright-core, with
 * Skatteverket's privacy-officer certificate given to the browser context. `npm test` installs
 * Chromium when it is missing.
 */

const RESULTS = path.join(process.cwd(), 'test-results');
const PERSON_QUERY = `query Person($p: Personnummer!) { person(personnummer: $p) { personnummer name { givenName familyName } civilStatus benefits { benefit } } }`;

let stack: Stack;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let subject: string;

beforeAll(async () => {
  mkdirSync(RESULTS, { recursive: true });
  stack = await startStack({ persons: 400 });
  subject = stack.sample.withBenefits;
  const malmo = stack.client('malmo-stad', { official: 'tjm-77', purpose: 'CASE_HANDLING', caseId: 'SOC-2026-0077', subjects: [subject] });
  const answer = await malmo.query(PERSON_QUERY, { p: subject });
  expect(answer.errors).toBeUndefined();

  browser = await launchChromium();
  context = await browser.newContext({
    viewport: { width: 1280, height: 800 },
    acceptDownloads: true,
    ignoreHTTPSErrors: true,
    clientCertificates: [
      {
        origin: new URL(stack.gateway.url).origin,
        certPath: path.join(stack.certsDir, 'agencies', 'skatteverket.crt'),
        keyPath: path.join(stack.certsDir, 'agencies', 'skatteverket.key'),
      },
    ],
  });
  page = await context.newPage();
});

afterAll(async () => {
  await context?.close();
  await browser?.close();
  await stack?.close();
});

describe('audit console in Chromium', () => {
  it("lets Skatteverket's privacy officer find, open and export a person's entries and see the chart", async () => {
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(`${new URL(stack.gateway.url).origin}/audit`);
    await expect.poll(() => page.textContent('#caller')).toContain('Skatteverket');
    await expect.poll(() => page.textContent('#chain-status')).toContain('Chain verified');

    // Keyboard only: type the official id and the personnummer, submit with Enter.
    await page.focus('#officer');
    await page.keyboard.type('dso-anna');
    await page.keyboard.press('Tab');
    await page.focus('#search input[name="subject"]');
    await page.keyboard.type(subject);
    await page.keyboard.press('Enter');
    await expect.poll(() => page.textContent('#count')).toMatch(/\(\d+ matching\)/);

    const api = auditClient(stack, 'skatteverket');
    const expected = await api.graphql<{ entries: { totalCount: number; entries: Array<{ id: string; field: string }> } }>(
      `query ($s: String) { entries(filter: { subject: $s }, first: 100) { totalCount entries { id field } } }`,
      { s: subject },
    );
    api.close();
    const { totalCount, entries } = expected.data!.entries;
    expect(totalCount).toBeGreaterThan(0);
    await expect.poll(() => page.textContent('#count')).toBe(`(${totalCount} matching)`);
    const shownIds = await page.$$eval('#results tbody button[data-id]', (buttons) => buttons.map((b) => b.getAttribute('data-id')));
    expect(shownIds).toEqual(entries.slice(0, 25).map((e) => e.id));
    const subjects = await page.$$eval('#results tbody tr td:nth-child(6)', (cells) => cells.map((c) => c.textContent));
    expect(new Set(subjects)).toEqual(new Set([subject]));

    // Open the first entry with the keyboard.
    await page.focus('#results tbody button[data-id]');
    await page.keyboard.press('Enter');
    await expect.poll(() => page.isVisible('#detail')).toBe(true);
    const detail = await page.textContent('#detail-body');
    expect(detail).toContain(entries[0]!.field);
    expect(detail).toContain(subject);
    expect(detail).toContain('Malmö stad');

    // The chart: bars per day, by purpose.
    expect(await page.locator('#chart svg rect').count()).toBeGreaterThan(0);
    expect(await page.textContent('#legend')).toContain('CASE_HANDLING');

    await page.screenshot({ path: path.join(RESULTS, 'audit-console.png') });

    // Export: the file holds exactly the entries of the filter.
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#do-export')]);
    const file = await download.path();
    const [header, ...rows] = readFileSync(file, 'utf8').trim().split('\r\n');
    const columns = header!.split(',');
    expect(rows.map((row) => row.split(',')[columns.indexOf('id')])).toEqual(entries.map((e) => e.id));
    expect(new Set(rows.map((row) => row.split(',')[columns.indexOf('subject')]))).toEqual(new Set([subject]));

    // Escape closes the detail and returns focus to the row it came from.
    await page.keyboard.press('Escape');
    expect(await page.isVisible('#detail')).toBe(false);
    expect(errors).toEqual([]);

    // The officer's searches were logged under the name they gave.
    const logged = await stack.deps.openedAccessLog.store.query({ kind: 'audit-query', official: 'dso-anna' }, null, 100);
    expect(logged.entries.map((e) => e.field)).toEqual(expect.arrayContaining(['Query.entries', 'Query.exportCsv']));
  });
});
