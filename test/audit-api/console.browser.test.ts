/// <reference lib="dom" />
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEV_PKCS12_PASSWORD } from '../../src/identity/pki/pkcs12.js';
import { launchChromium } from '../support/browser.js';
import { startStack, type Stack } from '../support/stack.js';
import { auditClient, parseCsv } from './auditClient.js';

/**
 * The console in a real browser: Debian's Chromium, headless, driven by playwright-core. Each
 * browser context holds an official's personal certificate, as the PKCS#12 file `npm run certs`
 * writes for importing into a browser; the console opens its officer session with it, with no
 * step for the person. Checked at 1280×800 and at a phone's 390×844: every column and the detail
 * panel within the window, a consistent page after an error, Swedish by default, times in
 * Europe/Stockholm. Screenshots land in test-results/ (the committed ones are in docs/images/).
 * `npm test` installs Chromium when it is missing.
 */

const RESULTS = path.join(process.cwd(), 'test-results');
const PERSON_QUERY = `query Person($p: Personnummer!) { person(personnummer: $p) { personnummer name { givenName familyName } civilStatus benefits { benefit } } }`;

let stack: Stack;
let browser: Browser;
let subject: string;
let origin: string;

/** The Stockholm wall-clock time of an instant, as the console writes it. */
const stockholm = (iso: string) =>
  new Intl.DateTimeFormat('sv-SE', { timeZone: 'Europe/Stockholm', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit' }).format(new Date(iso));

beforeAll(async () => {
  mkdirSync(RESULTS, { recursive: true });
  stack = await startStack({ persons: 400 });
  origin = new URL(stack.gateway.url).origin;
  subject = stack.sample.withBenefits;
  const others = [stack.sample.withStudentAid, stack.sample.jobSeeker].filter((p) => p !== subject);
  // Reads of a few kinds: released, withheld (a person outside the case), refused (a purpose not declared).
  for (const [official, caseId, p] of [
    ['tjm-77', 'SOC-2026-0077', subject],
    ['tjm-78', 'SOC-2026-0078', others[0]!],
  ] as const) {
    const client = stack.client('malmo-stad', { official, purpose: 'CASE_HANDLING', caseId, subjects: [p] });
    expect((await client.query(PERSON_QUERY, { p })).status).toBe(200);
  }
  const fk = stack.client('forsakringskassan', { official: 'fk-kontroll-3', purpose: 'PAYMENT_CONTROL', caseId: 'FK-2026-1203', subjects: [subject] });
  expect((await fk.query(`query ($p: Personnummer!) { person(personnummer: $p) { personnummer taxedIncome { year } } }`, { p: subject })).status).toBe(200);
  const outside = stack.client('malmo-stad', { official: 'tjm-79', purpose: 'CASE_HANDLING', caseId: 'SOC-2026-0079', subjects: [subject] });
  await outside.query(PERSON_QUERY, { p: others[1] ?? others[0]! });
  await outside.query(`{ person(personnummer: "${subject}") { sicknessBenefit { id } } }`, undefined, { purpose: 'STATISTICS' });

  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await stack?.close();
});

/** A browser context holding an official's .p12, as imported by a person. */
async function officerContext(official: string, viewport: { width: number; height: number }): Promise<BrowserContext> {
  return browser.newContext({
    viewport,
    acceptDownloads: true,
    ignoreHTTPSErrors: true,
    locale: 'sv-SE',
    clientCertificates: [{ origin, pfxPath: path.join(stack.certsDir, 'officials', `${official}.p12`), passphrase: DEV_PKCS12_PASSWORD }],
  });
}

/** Runs `use` with a page of a fresh context holding the official's certificate, closing it after. */
async function withConsolePage(official: string, viewport: { width: number; height: number }, use: (page: Page) => Promise<void>): Promise<void> {
  const context = await officerContext(official, viewport);
  try {
    await use(await context.newPage());
  } finally {
    await context.close();
  }
}

/** Opens the console and waits for its first search (which runs once the session exists). */
async function openConsole(page: Page): Promise<string[]> {
  const posts: string[] = [];
  page.on('request', (request) => {
    if (request.method() === 'POST') posts.push(new URL(request.url()).pathname);
  });
  await page.goto(`${origin}/audit`);
  await expect.poll(() => page.textContent('#count'), { timeout: 20_000 }).toMatch(/\d+ träffar/);
  return posts;
}

async function search(page: Page, fields: Record<string, string>): Promise<void> {
  await page.click('#do-reset');
  await expect.poll(() => page.getAttribute('#results-area', 'aria-busy'), { timeout: 20_000 }).toBe('false');
  for (const [name, value] of Object.entries(fields)) {
    const control = page.locator(`#search [name="${name}"]`);
    if ((await control.evaluate((node) => node.tagName)) === 'SELECT') await control.selectOption(value);
    else await control.fill(value);
  }
  await page.press('#search input[name="subject"]', 'Enter');
  await expect.poll(() => page.getAttribute('#results-area', 'aria-busy'), { timeout: 20_000 }).toBe('false');
}

/** Every visible box of `selector` lies within the window, and nothing scrolls sideways. */
async function withinViewport(page: Page, selector: string): Promise<{ outside: string[]; scrollWidth: number; width: number }> {
  return page.evaluate((sel) => {
    const outside: string[] = [];
    for (const node of Array.from(document.querySelectorAll(sel))) {
      const box = node.getBoundingClientRect();
      if (box.width === 0 && box.height === 0) continue;
      if (box.left < -0.5 || box.right > window.innerWidth + 0.5) outside.push(`${node.textContent?.slice(0, 30)} [${Math.round(box.left)}, ${Math.round(box.right)}]`);
    }
    return { outside, scrollWidth: document.documentElement.scrollWidth, width: window.innerWidth };
  }, selector);
}

/** Cells whose text is wider than the cell (it would run into the next column, or be cut off). */
async function clippedCells(page: Page): Promise<string[]> {
  return page.$$eval('#results th, #results td', (cells) => cells.filter((cell) => cell.scrollWidth > cell.clientWidth + 1).map((cell) => cell.textContent ?? ''));
}

/** The detail panel lies wholly within a window of `width` × `height`. */
async function expectPanelWithin(page: Page, width: number, height: number): Promise<void> {
  const box = await page.evaluate(() => {
    const rect = document.querySelector('#detail')!.getBoundingClientRect();
    return { left: rect.left, right: rect.right, top: rect.top, bottom: rect.bottom };
  });
  expect(box.left).toBeGreaterThanOrEqual(0);
  expect(box.right).toBeLessThanOrEqual(width);
  expect(box.top).toBeGreaterThanOrEqual(0);
  expect(box.bottom).toBeLessThanOrEqual(height);
}

describe('audit console in Chromium', () => {
  it("serves Skatteverket's privacy officer at 1280×800: Swedish, every column in view, detail beside, sorting, export", async () => {
    await withConsolePage('dso-skv-1', { width: 1280, height: 800 }, async (page) => {
      const errors: string[] = [];
      page.on('pageerror', (error) => errors.push(error.message));
      const posts = await openConsole(page);
      // The officer is named by the certificate and the registry; nothing was searched before the session.
      expect(posts[0]).toBe('/audit/session');
      expect(await page.getAttribute('html', 'lang')).toBe('sv');
      expect(await page.textContent('#caller')).toContain('Anna Berglund (dso-skv-1)');
      expect(await page.textContent('#caller')).toContain('Dataskyddsombud');
      // The chain and the tree verified (the badge's words: consoleBadge.browser.test.ts).
      await expect.poll(() => page.getAttribute('#chain-status', 'data-state'), { timeout: 20_000 }).toBe('ok');
      expect(await page.textContent('#chain-status')).toMatch(/^(Kedjan obruten|Loggen verifierad) ✓/);
      await page.screenshot({ path: path.join(RESULTS, 'audit-console-1280-table.png') });

      await search(page, { subject });
      const api = auditClient(stack, { official: 'dso-skv-1' });
      const expected = await api.graphql<{ entries: { totalCount: number; entries: Array<{ id: string; time: string; field: string; purpose: string }> } }>(
        `query ($s: String) { entries(filter: { subject: $s }, first: 100) { totalCount entries { id time field purpose } } }`,
        { s: subject },
      );
      api.close();
      const { totalCount, entries } = expected.data!.entries;
      expect(totalCount).toBeGreaterThan(0);
      expect(await page.textContent('#count')).toContain(`${totalCount} träffar`);
      const shownIds = await page.$$eval('#results tbody tr[data-id]', (rows) => rows.map((r) => r.getAttribute('data-id')));
      expect(shownIds).toEqual(entries.slice(0, 25).map((e) => e.id));
      expect(new Set(await page.$$eval('#results tbody td.col-subject', (cells) => cells.map((c) => c.textContent)))).toEqual(new Set([subject]));

      // Every column, Ägare and Utfall included, is inside the window; nothing scrolls sideways.
      const headers = await page.$$eval('#results thead th', (cells) => cells.map((c) => c.textContent?.trim()));
      expect(headers).toEqual(['Tid', 'Mottagare', 'Handläggare', 'Ändamål', 'Ärende', 'Personnummer', 'Uppgift', 'Ägare', 'Utfall']);
      const fit = await withinViewport(page, '#results th, #results td');
      expect(fit.outside).toEqual([]);
      expect(fit.scrollWidth).toBeLessThanOrEqual(fit.width);
      expect(await page.$eval('.table-wrap', (wrap) => wrap.scrollWidth <= wrap.clientWidth)).toBe(true);
      // ...and no header or cell text runs out of its column.
      expect(await clippedCells(page)).toEqual([]);

      // Plain language from the schemas' descriptions, times in Europe/Stockholm.
      const first = entries[0]!;
      const firstRow = page.locator(`#results tbody tr[data-id="${first.id}"]`);
      expect(await firstRow.locator('td.col-time').textContent()).toBe(stockholm(first.time));
      expect(await firstRow.locator('td.col-purpose').textContent()).toBe('Handläggning av ärende');
      const fieldTexts = await page.$$eval('#results tbody td.col-field', (cells) => cells.map((c) => c.textContent ?? ''));
      expect(fieldTexts).toContain('Namn');
      expect(fieldTexts.some((text) => text.startsWith('Person.'))).toBe(false);
      expect(await page.textContent('#results tbody')).not.toContain('CASE_HANDLING');

      // Sorting by a column, both ways.
      await page.click('#results th.col-field button');
      expect(await page.getAttribute('#results th.col-field', 'aria-sort')).toBe('ascending');
      const ascending = await page.$$eval('#results tbody td.col-field', (cells) => cells.map((c) => c.textContent ?? ''));
      expect(ascending).toEqual([...ascending].sort((a, b) => a.localeCompare(b, 'sv', { numeric: true })));
      await page.click('#results th.col-field button');
      expect(await page.getAttribute('#results th.col-field', 'aria-sort')).toBe('descending');
      const descending = await page.$$eval('#results tbody td.col-field', (cells) => cells.map((c) => c.textContent ?? ''));
      expect(descending).toEqual([...ascending].reverse());

      // The detail opens beside the table, inside the window, by keyboard.
      await page.focus(`#results tbody tr[data-id="${first.id}"] button[data-id]`);
      await page.keyboard.press('Enter');
      await expect.poll(() => page.isVisible('#detail'), { timeout: 20_000 }).toBe(true);
      await expectPanelWithin(page, 1280, 800);
      const detail = await page.textContent('#detail-body');
      expect(detail).toContain(first.field);
      expect(detail).toContain(subject);
      expect(detail).toContain('Malmö stad');
      expect(detail).toContain(stockholm(first.time));
      await page.screenshot({ path: path.join(RESULTS, 'audit-console-1280.png') });
      await page.keyboard.press('Escape');
      expect(await page.isVisible('#detail')).toBe(false);
      expect(await page.evaluate(() => document.activeElement?.getAttribute('data-id'))).toBe(first.id);

      // Export: the file is Excel's Swedish dialect and holds exactly the entries of the list.
      const [download] = await Promise.all([page.waitForEvent('download'), page.click('#do-export')]);
      const csv = readFileSync(await download.path(), 'utf8');
      expect(csv.startsWith('\uFEFF')).toBe(true);
      expect(csv.endsWith('\r\n')).toBe(true);
      const [columns, ...rows] = parseCsv(csv);
      expect(rows.every((row) => row.length === columns!.length)).toBe(true);
      expect(rows.map((row) => row[columns!.indexOf('id')])).toEqual(entries.map((e) => e.id));
      expect(new Set(rows.map((row) => row[columns!.indexOf('subject')]))).toEqual(new Set([subject]));
      expect(rows.map((row) => row[columns!.indexOf('localTime')])).toEqual(entries.map((e) => `${stockholm(e.time)}:${e.time.slice(17, 19)}`));

      // English on request, and back.
      await page.click('#language');
      expect(await page.getAttribute('html', 'lang')).toBe('en');
      expect(await page.$$eval('#results thead th', (cells) => cells.map((c) => c.textContent?.trim()))).toContain('Owner');
      expect(await page.$$eval('#results tbody td.col-field', (cells) => cells.map((c) => c.textContent))).toContain('Name');
      await page.click('#language');
      expect(await page.getAttribute('html', 'lang')).toBe('sv');
      expect(errors).toEqual([]);

      // Every search was logged under the verified official, and none under anybody else.
      const logged = await stack.deps.openedAccessLog.store.query({ kind: 'audit-query', clientAgency: 'skatteverket' }, null, 200);
      expect(logged.entries.map((e) => e.field)).toEqual(expect.arrayContaining(['Query.entries', 'Query.dailyVolume', 'Query.exportCsv']));
      expect(new Set(logged.entries.map((e) => e.official))).toEqual(new Set(['dso-skv-1']));
    });
  });

  it('leaves nothing of an earlier search on screen after an error: list, count, chart and export agree', async () => {
    await withConsolePage('dso-skv-1', { width: 1280, height: 800 }, async (page) => {
      await openConsole(page);
      await search(page, { subject });
      expect(await page.locator('#chart svg rect').count()).toBeGreaterThan(0);
      await page.click(`#results tbody button[data-id]`);
      await expect.poll(() => page.isVisible('#detail'), { timeout: 20_000 }).toBe(true);

      // A personnummer with a wrong check digit.
      await search(page, { subject: `${subject.slice(0, 11)}${(Number(subject[11]) + 1) % 10}` });
      expect(await page.isVisible('#search-error')).toBe(true);
      expect(await page.textContent('#search-error')).toContain('Personnumret är inte giltigt');
      expect(await page.textContent('#search-error')).toContain('BAD_USER_INPUT');
      expect(await page.locator('#results tbody tr[data-id]').count()).toBe(0);
      expect(await page.locator('#chart svg rect').count()).toBe(0);
      expect(await page.locator('#legend li').count()).toBe(0);
      expect(await page.textContent('#count')).toBe('');
      expect(await page.isDisabled('#do-export')).toBe(true);
      expect(await page.isDisabled('#next')).toBe(true);
      expect(await page.isVisible('#detail')).toBe(false);
      await page.screenshot({ path: path.join(RESULTS, 'audit-console-error.png') });

      // A date range the wrong way round is caught before anything is sent, with the same result.
      await search(page, { from: '2026-03-10', to: '2026-03-01' });
      expect(await page.textContent('#search-error')).toContain('ligger efter');
      expect(await page.locator('#results tbody tr[data-id]').count()).toBe(0);
      expect(await page.locator('#chart svg rect').count()).toBe(0);

      // A good search brings everything back, consistently.
      await search(page, { subject });
      expect(await page.isVisible('#search-error')).toBe(false);
      expect(await page.locator('#results tbody tr[data-id]').count()).toBeGreaterThan(0);
      const total = Number(/(\d+) träffar/.exec((await page.textContent('#count')) ?? '')?.[1]);
      expect(Number(await page.getAttribute('#chart', 'data-total'))).toBe(total);
    });
  });

  it('gives the supervisor a chart and a list that count the same entries, though every search is itself logged', async () => {
    await withConsolePage('imy-insp-1', { width: 1280, height: 800 }, async (page) => {
      await openConsole(page);
      expect(await page.isVisible('#kind-label')).toBe(true);
      expect(await page.isVisible('#tab-rules')).toBe(true);
      for (let round = 0; round < 3; round += 1) {
        // Each search logs itself before it reads; the list, the chart and the CSV end where the search began.
        await search(page, {});
        const total = Number(/(\d+) träffar/.exec((await page.textContent('#count')) ?? '')?.[1]);
        expect(total).toBeGreaterThan(0);
        expect(Number(await page.getAttribute('#chart', 'data-total'))).toBe(total);
        await page.selectOption('#series', 'CLIENT_AGENCY');
        await expect.poll(async () => Number(await page.getAttribute('#chart', 'data-total')), { timeout: 20_000 }).toBe(total);
        await page.selectOption('#series', 'PURPOSE');
      }
      await search(page, { kind: 'AUDIT_QUERY' });
      expect(await page.textContent('#results tbody')).toContain('Granskningssökning');
    });
  });

  it('shows the supervisor the confidentiality rules and a citizen report summary as tables with their column headers', async () => {
    await withConsolePage('imy-insp-1', { width: 1280, height: 800 }, async (page) => {
      await openConsole(page);
      await page.click('#tab-rules');
      await page.waitForSelector('#rules table.compact tbody tr');
      expect(await page.$$eval('#rules table.compact thead th', (cells) => cells.map((c) => c.textContent?.trim()))).toEqual([
        'Regel',
        'Ändamål',
        'Mottagande myndighet',
        'Ärendemönster',
        'Undanhålls till',
        'Skäl',
      ]);
      const rule = await page.$$eval('#rules table.compact tbody tr', (rows) => rows.map((r) => [...r.querySelectorAll('td')].map((c) => c.textContent?.trim())));
      expect(rule).toHaveLength(1);
      expect(rule[0]?.[0]).toBe('FK-KONTROLL-2025');
      expect(rule[0]?.[4]).toBe('2027-06-30');

      await page.click('#tab-report');
      await page.fill('#report-form input[name="personnummer"]', subject);
      await page.click('#report-show');
      await page.waitForSelector('#report table.compact tbody tr');
      expect(await page.locator('#report table.compact thead th').count()).toBe(7);
      const reads = await page.$$eval('#report table.compact tbody tr', (rows) => rows.map((r) => Number(r.querySelectorAll('td')[4]?.textContent)));
      // The subject was read by Malmö (case handling) and by Försäkringskassan (payment control): each summary row counts at least one read.
      expect(reads.length).toBeGreaterThan(0);
      for (const count of reads) expect(count).toBeGreaterThan(0);
    });
  });

  it('fits a phone (390×844): entries as cards, nothing wider than the screen, the detail within it', async () => {
    await withConsolePage('dso-skv-1', { width: 390, height: 844 }, async (page) => {
      await openConsole(page);
      await page.click('#filters > summary');
      await search(page, { subject });
      expect(await page.locator('#results tbody tr[data-id]').count()).toBeGreaterThan(0);
      const fit = await withinViewport(page, '#results td, .top *, .tabs, #filters, .chart, .pager');
      expect(fit.outside).toEqual([]);
      expect(fit.scrollWidth).toBeLessThanOrEqual(390);
      expect(await clippedCells(page)).toEqual([]);
      // Each card names its columns.
      expect(await page.$eval('#results tbody td.col-outcome', (cell) => getComputedStyle(cell, '::before').content)).toContain('Utfall');
      await page.screenshot({ path: path.join(RESULTS, 'audit-console-phone.png') });
      await page.click('#results tbody button[data-id]');
      await expect.poll(() => page.isVisible('#detail'), { timeout: 20_000 }).toBe(true);
      await expectPanelWithin(page, 390, 844);
      expect(await page.$eval('#detail', (panel) => panel.scrollWidth <= panel.clientWidth)).toBe(true);
      await page.screenshot({ path: path.join(RESULTS, 'audit-console-phone-detail.png') });
    });
  });

  it("shows a browser holding only the agency's system certificate a page saying a personal certificate is needed", async () => {
    const context = await browser.newContext({
      viewport: { width: 1280, height: 800 },
      ignoreHTTPSErrors: true,
      locale: 'sv-SE',
      clientCertificates: [{ origin, certPath: path.join(stack.certsDir, 'agencies', 'skatteverket.crt'), keyPath: path.join(stack.certsDir, 'agencies', 'skatteverket.key') }],
    });
    try {
      const page = await context.newPage();
      const response = await page.goto(`${origin}/audit`);
      expect(response?.status()).toBe(401);
      expect(await page.getAttribute('main', 'data-code')).toBe('PERSONAL_CERTIFICATE_REQUIRED');
      expect(await page.textContent('h1')).toBe('Personligt certifikat krävs');
      await page.screenshot({ path: path.join(RESULTS, 'audit-refused.png') });
    } finally {
      await context.close();
    }
  });
});
