import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runTokenCommand } from '../../src/cli/token.js';
import { loadGatewayConfig } from '../../src/config/gatewayConfig.js';
import { createGateway } from '../../src/createGateway.js';
import { DEV_PKCS12_PASSWORD } from '../../src/identity/pki/pkcs12.js';
import { launchChromium } from '../support/browser.js';
import { createRawClient } from '../support/rawClient.js';
import { startStack, type Stack } from '../support/stack.js';

/**
 * The development IDE in Debian's Chromium with Malmö stad's development certificate imported
 * from its PKCS#12 file, every request outside this machine refused: the page loads from the
 * gateway alone, introspects, and runs a query with a token from `npm run token`.
 */

const RESULTS = path.join(process.cwd(), 'test-results');

let stack: Stack;
let browser: Browser;
let context: BrowserContext;
let page: Page;
/** Every request the page made that was not to this machine (refused). */
const outside: string[] = [];
const origins = new Set<string>();
/** Method and path of every request the page sent. */
const paths: string[] = [];

beforeAll(async () => {
  mkdirSync(RESULTS, { recursive: true });
  stack = await startStack({ persons: 300, env: { GATEWAY_MODE: 'development' } });
  browser = await launchChromium();
  context = await browser.newContext({
    viewport: { width: 1400, height: 900 },
    ignoreHTTPSErrors: true,
    clientCertificates: [{ origin: new URL(stack.gateway.url).origin, pfxPath: path.join(stack.certsDir, 'agencies', 'malmo-stad.p12'), passphrase: DEV_PKCS12_PASSWORD }],
  });
  // The network is this machine: anything else is refused and recorded.
  await context.route('**/*', async (route) => {
    const url = new URL(route.request().url());
    origins.add(url.origin);
    if (url.hostname === 'localhost' || url.hostname === '127.0.0.1') return route.continue();
    outside.push(url.href);
    return route.abort('blockedbyclient');
  });
  page = await context.newPage();
});

afterAll(async () => {
  await context?.close();
  await browser?.close();
  await stack?.close();
});

/** Replaces the text of a GraphiQL (Monaco) editor: focus, select all, insert (no auto-closing brackets). */
async function setEditor(selector: string, text: string): Promise<void> {
  await page.locator(`${selector} .monaco-editor`).first().click();
  await page.keyboard.press('ControlOrMeta+A');
  await page.keyboard.press('Delete');
  await page.keyboard.insertText(text);
}

describe('the development IDE', () => {
  it('loads from the gateway alone and introspects the schema without spending a token', async () => {
    const consoleErrors: string[] = [];
    page.on('request', (sent) => paths.push(`${sent.method()} ${new URL(sent.url()).pathname}`));
    page.on('console', (message) => {
      if (message.type() === 'error') consoleErrors.push(message.text());
    });
    const response = await page.goto(stack.gateway.url.replace('/graphql', '/ide'));
    expect(response?.status()).toBe(200);
    await page.locator('.graphiql-container').first().waitFor();
    // The documentation explorer fills from the introspection: the root type and its fields are listed.
    await page.getByRole('button', { name: 'Show Documentation Explorer' }).click();
    await page.locator('.graphiql-doc-explorer').getByText('Query', { exact: true }).first().click();
    await page.locator('.graphiql-doc-explorer').getByText('myPermissions').first().waitFor();
    await page.screenshot({ path: path.join(RESULTS, 'ide-loaded.png') });
    expect(paths).toContain('GET /ide/introspection.json');
    expect(paths.filter((p) => p.endsWith(' /graphql'))).toEqual([]);
    expect(outside).toEqual([]);
    expect([...origins]).toEqual([new URL(stack.gateway.url).origin]);
    expect(consoleErrors.filter((text) => /Content Security Policy|Refused/i.test(text))).toEqual([]);
  });

  it('runs a query with the token npm run token prints, pasted into Headers', async () => {
    const subject = stack.sample.withBenefits;
    const printed: string[] = [];
    const code = await runTokenCommand(['--certs', stack.certsDir, '--as', 'malmo-stad', '--purpose', 'CASE_HANDLING', '--case', 'IDE-1', '--subject', subject, '--format', 'json'], {
      out: (line) => printed.push(line),
      err: (line) => printed.push(line),
    });
    expect(code).toBe(0);
    await setEditor('.graphiql-query-editor', `query IdePerson { person(personnummer: "${subject}") { name { givenName } } myPermissions { field } }`);
    await page.getByRole('button', { name: 'Headers', exact: true }).click();
    await setEditor('.graphiql-editor-tool .graphiql-editor:not(.hidden)', printed[0]!);
    await page.getByRole('button', { name: /Execute query/i }).click();
    const result = page.locator('.graphiql-response');
    await result.getByText('givenName').first().waitFor();
    await page.screenshot({ path: path.join(RESULTS, 'ide-query.png') });
    // biome-ignore lint/performance/useDomNodeTextContent: a Playwright locator's innerText(), the text as the official sees it, not the DOM property
    const text = await result.innerText();
    expect(text).toContain('"givenName"');
    expect(text).not.toContain('"errors"');
    expect(outside).toEqual([]);
    // The run is in the access log like any partner request.
    const page1 = await stack.deps.openedAccessLog.store.query({ caseId: 'IDE-1', outcome: 'released' }, null, 10);
    expect(page1.entries.map((entry) => entry.field)).toEqual(['Person.name']);
  });
});

describe('outside development mode', () => {
  it('a production gateway has no IDE: 404', async () => {
    const production = await createGateway(
      loadGatewayConfig({ GATEWAY_PORT: '0', GATEWAY_MODE: 'production', RATE_LIMIT_ENABLED: 'false', SUBGRAPH_URLS: [...stack.subgraphs.values()].map((s) => `${s.name}=${s.url}`).join(',') }),
      stack.deps,
    );
    const client = createRawClient(stack.certsDir, 'malmo-stad', production.url);
    try {
      for (const route of ['/ide', '/ide/introspection.json']) {
        const response = await client.send({ method: 'GET', path: route, noToken: true });
        expect(response.status).toBe(404);
        expect(response.json.errors[0].extensions.code).toBe('NOT_FOUND');
      }
    } finally {
      await client.close();
      await production.close();
    }
  });
});
