import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { buildSchema, introspectionFromSchema } from 'graphql';
import type { GatewayRoute } from '../http/routes.js';
import { apiSchemaOf } from '../composition/composeSupergraph.js';
import { GatewayError } from '../errors/index.js';
import { sendError } from '../http/responses.js';
import { verifyTlsClient, type AgencyRegistry, type ClientCertificateTrust } from '../identity/index.js';

/**
 * The development IDE at /ide: GraphiQL served from an npm package (@graphql-yoga/render-graphiql
 * inlines GraphiQL's scripts, styles and editor workers into one page), so nothing is loaded from
 * the internet; the page's Content-Security-Policy lets it reach this origin only. Mounted in
 * GATEWAY_MODE=development only: a production gateway answers 404.
 *
 * The page talks to /graphql like any partner system: the browser presents an agency's
 * development certificate (certs/dev/agencies/<agency>.p12, certs/README.md) and each run
 * carries a request token pasted into the Headers pane from `npm run -s token -- … --format json`.
 * A token is accepted once, so the page does not spend one on introspection: it answers
 * GraphiQL's introspection from /ide/introspection.json, the public API schema of this gateway's
 * supergraph (the SDL partners already read), for any caller with a federation certificate.
 */

const SECURITY_HEADERS = {
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'same-origin',
  // GraphiQL's page is inline script and style with editor workers from blob: URLs; nothing else, and no other origin.
  'content-security-policy':
    "default-src 'none'; script-src 'self' 'unsafe-inline'; worker-src blob:; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; form-action 'none'; base-uri 'none'",
};

const DEFAULT_QUERY = `# A fresh request token per run (each is accepted once, for at most 300 s):
#   npm run -s token -- --as malmo-stad --purpose CASE_HANDLING \\
#     --case SOC-2026-0001 --subject <personnummer> --format json
# Paste its output into Headers. The schema (Docs) needs no token.
query WhatMayIAsk {
  myPermissions { field owner purpose agreementId }
}
`;

/** Runs before GraphiQL: introspection goes to the schema endpoint, every other request to /graphql as it is. */
const INTROSPECTION_FROM_SCHEMA_ENDPOINT = `<script>
(() => {
  const send = window.fetch.bind(window);
  window.fetch = (input, init) => {
    const url = new URL(typeof input === 'string' ? input : input.url, window.location.href);
    if (url.pathname === '/graphql' && typeof init?.body === 'string') {
      try {
        const { query } = JSON.parse(init.body);
        if (typeof query === 'string' && /\\b__schema\\b/.test(query)) return send('/ide/introspection.json', { headers: { accept: 'application/json' } });
      } catch {}
    }
    return send(input, init);
  };
})();
</script>`;

const ROOT = '<div id="root"></div>';

async function renderPage(): Promise<string> {
  // Loaded on first use: a 9 MB module a production gateway never mounts, let alone loads.
  const { renderGraphiQL } = await import('@graphql-yoga/render-graphiql');
  const html = renderGraphiQL({
    title: 'Agency exchange gateway (development)',
    endpoint: '/graphql',
    defaultQuery: DEFAULT_QUERY,
    headers: JSON.stringify({ authorization: 'Bearer <paste the output of npm run -s token -- … --format json here>' }, null, 2),
    shouldPersistHeaders: false,
    defaultEditorToolsVisibility: 'headers',
  });
  if (!html.includes(ROOT)) throw new Error('@graphql-yoga/render-graphiql changed its page: the IDE cannot add its introspection shim.');
  return html.replace(ROOT, `${INTROSPECTION_FROM_SCHEMA_ENDPOINT}\n${ROOT}`);
}

export function developmentIdeRoute(options: { readonly supergraphSdl: string; readonly registry: AgencyRegistry; readonly trust: ClientCertificateTrust }): GatewayRoute {
  let page: Promise<string> | undefined;
  let introspection: string | undefined;
  return {
    prefix: '/ide',
    async handle(request: IncomingMessage, response: ServerResponse) {
      // A federation certificate, as for /metrics: the IDE is for the federation's developers.
      verifyTlsClient(request.socket as TLSSocket, { registry: options.registry, trust: options.trust });
      const path = (request.url ?? '/').split('?')[0];
      if (request.method !== 'GET' && request.method !== 'HEAD') throw new GatewayError('BAD_REQUEST', 'The IDE answers GET only.');
      if (path === '/ide' || path === '/ide/') {
        page ??= renderPage();
        return send(response, 'text/html; charset=utf-8', await page);
      }
      if (path === '/ide/introspection.json') {
        introspection ??= JSON.stringify({ data: introspectionFromSchema(buildSchema(apiSchemaOf(options.supergraphSdl))) });
        return send(response, 'application/json; charset=utf-8', introspection);
      }
      sendError(response, new GatewayError('NOT_FOUND', 'Not found.'));
    },
  };
}

function send(response: ServerResponse, contentType: string, body: string): void {
  response.writeHead(200, { 'content-type': contentType, ...SECURITY_HEADERS });
  response.end(body);
}
