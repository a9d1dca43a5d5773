import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { execute, parse, specifiedRules, validate, type DocumentNode, type GraphQLError, type GraphQLFormattedError } from 'graphql';
import type { JWK } from 'jose';
import type { GatewayRoute } from '../http/routes.js';
import { GatewayError, isGatewayError } from '../errors/index.js';
import { maskUnexpectedError, type ErrorLogger } from '../errors/maskErrors.js';
import { parseJsonBody, readBody, readJsonBody } from '../http/readJsonBody.js';
import { sendFailure } from '../http/responses.js';
import type { AccessLogStore, SubjectKeys } from '../audit/index.js';
import type { AccessLogSink } from '../audit/accessLog.js';
import {
  identifyOfficial,
  issueOfficerSession,
  officialHoldsRole,
  requestTokenFromHeaders,
  sessionVerificationKey,
  type AgencyRegistry,
  type ClientCertificateTrust,
  type GatewaySigningKey,
  type IdentifiedOfficial,
  type OfficialRegistry,
  type ReplayCache,
} from '../identity/index.js';
import { readPersonalFieldCatalogue } from '../policy/personalFieldCatalogue.js';
import { createAuditSchema, type AuditContext } from '../../resolvers/audit/index.js';
import { authenticateAuditCaller, AUDIT_ROLES, type AuditCaller, type AuditRole, type AuditTokenCheck } from './auditCaller.js';
import { AuditService, type AuditFilterInput, type AuditServiceOptions } from './auditService.js';
import { renderCitizenReportHtml } from './citizenReport.js';
import type { AuditApiConfig } from '../config/auditApiConfig.js';
import { readVocabulary } from './vocabulary.js';
import { pageLanguage, renderErrorPage, wantsPage } from './errorPage.js';

export interface AuditRouteDependencies {
  readonly registry: AgencyRegistry;
  readonly trust: ClientCertificateTrust;
  /** Officials and the HSA-ids of their personal certificates: who may read the log, in which role. */
  readonly officials: OfficialRegistry;
  /** Signs (and verifies) the officer sessions the console opens. */
  readonly signingKey: GatewaySigningKey;
  /** Officer tokens a script signs are good for one request, like partners' request tokens. */
  readonly replayCache: ReplayCache;
  /** The audience of officer tokens (officerAudience(REQUEST_TOKEN_AUDIENCE)). */
  readonly audience: string;
  readonly store: AccessLogStore;
  readonly accessLog: AccessLogSink;
  readonly subjectKeys: SubjectKeys;
  readonly publicJwks: readonly JWK[];
  readonly config: AuditApiConfig;
  /** The gateway's supergraph, as loaded and validated at start: the catalogue and vocabulary are read from it. */
  readonly supergraphSdl: string;
  readonly logError?: ErrorLogger;
  readonly now?: () => Date;
  /** The log's note key, witnesses and quorum: citizen reports then carry their proofs. */
  readonly transparency?: AuditServiceOptions['transparency'];
  /** Each start and end of the badge's kept verification (keptLogVerification.ts). */
  readonly onLogVerification?: AuditServiceOptions['onLogVerification'];
}

const MAX_BODY_BYTES = 64 * 1024;

/**
 * The console's stylesheet is public: the page that explains a refused certificate uses it. Every
 * other file, and every route, needs an official's personal certificate.
 */
const PUBLIC_FILES = new Set(['console.css']);

/** The console's files, served as they are (hand-written, no build step): name → content type. */
const CONSOLE_FILES: Readonly<Record<string, string>> = {
  'index.html': 'text/html; charset=utf-8',
  'console.js': 'text/javascript; charset=utf-8',
  'i18n.js': 'text/javascript; charset=utf-8',
  'console.css': 'text/css; charset=utf-8',
  'report.css': 'text/css; charset=utf-8',
};

/**
 * Everything the audit endpoints answer is personal data or about it: never cached, never
 * framed, and the console may load only its own files (no CDN, no inline script).
 */
const SECURITY_HEADERS = {
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'same-origin',
  'content-security-policy': "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
};

/**
 * The browser sends the officer's client certificate with any request to the gateway, also one
 * a foreign page triggers. Requests that change nothing but read and log are still refused
 * unless they come from the console itself: fetch metadata and Origin say where they came from.
 */
function checkSameOrigin(request: IncomingMessage): void {
  const site = request.headers['sec-fetch-site'];
  if (site !== undefined) {
    if (site === 'same-origin' || site === 'none') return;
    throw new GatewayError('BAD_REQUEST', 'Cross-site requests to the audit API are refused.', { reason: 'CROSS_SITE' });
  }
  // Without fetch metadata (an older browser, or a program), a browser's Origin must be ours.
  const origin = request.headers.origin;
  if (origin !== undefined && origin !== `https://${request.headers.host ?? ''}`) {
    throw new GatewayError('BAD_REQUEST', 'Cross-origin requests to the audit API are refused.', { reason: 'CROSS_ORIGIN' });
  }
}

function send(response: ServerResponse, status: number, contentType: string, body: string | Buffer, extra: Record<string, string> = {}): void {
  response.writeHead(status, { ...SECURITY_HEADERS, 'content-type': contentType, ...extra });
  response.end(body);
}

/** Form posts (the console's export and report buttons) and JSON bodies both reach the same fields. */
async function readFields(request: IncomingMessage): Promise<Record<string, string>> {
  const text = await readBody(request, MAX_BODY_BYTES);
  const type = request.headers['content-type'] ?? '';
  if (/^application\/x-www-form-urlencoded\b/i.test(type)) return Object.fromEntries(new URLSearchParams(text));
  if (/^application\/json\b/i.test(type)) {
    const json = parseJsonBody(text, type, { optional: false });
    if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new GatewayError('BAD_REQUEST', 'Expected a JSON object.');
    return Object.fromEntries(Object.entries(json).filter((kv): kv is [string, string] => typeof kv[1] === 'string'));
  }
  throw new GatewayError('BAD_REQUEST', 'Content-Type must be application/json or application/x-www-form-urlencoded.');
}

/** The language a download is written in: the `lang` field the console sends, Swedish otherwise. */
function languageOf(fields: Record<string, string>): 'sv' | 'en' {
  return fields['lang'] === 'en' ? 'en' : 'sv';
}

const FILTER_FIELDS = ['subject', 'clientAgency', 'owningAgency', 'official', 'purpose', 'caseId', 'field', 'outcome', 'kind', 'from', 'to'] as const;

function filterFrom(fields: Record<string, string>): AuditFilterInput {
  const filter: Record<string, string> = {};
  for (const key of FILTER_FIELDS) {
    const value = fields[key]?.trim();
    if (value) filter[key] = value;
  }
  return filter;
}

/** `since=chainId:size,...`: the checkpoints of the citizen's earlier report, for consistency proofs from them. */
function sinceFrom(raw: string | undefined): Record<string, number> {
  const since: Record<string, number> = {};
  for (const pair of (raw ?? '').split(',').filter(Boolean)) {
    const match = /^([A-Za-z0-9][A-Za-z0-9._-]{0,63}):([1-9][0-9]{0,15})$/.exec(pair.trim());
    if (!match) throw new GatewayError('BAD_USER_INPUT', 'since must be chainId:size pairs separated by commas.', { argument: 'since' });
    since[match[1]!] = Number(match[2]);
  }
  return since;
}

/**
 * Mounts the audit API (/audit/graphql), the console (/audit) and the two downloads
 * (/audit/export.csv, /audit/citizen-report) on the gateway's mTLS listener.
 */
export function createAuditRoute(deps: AuditRouteDependencies): GatewayRoute {
  const supergraph = deps.supergraphSdl;
  const catalogue = readPersonalFieldCatalogue(supergraph);
  const schema = createAuditSchema();
  const vocabulary = readVocabulary(supergraph, catalogue, schema);
  const timeZone = deps.config.anomalies.timeZone;
  const service = new AuditService({
    store: deps.store,
    log: deps.accessLog,
    subjectKeys: deps.subjectKeys,
    publicJwks: deps.publicJwks,
    registry: deps.registry,
    catalogue: () => catalogue,
    vocabulary: () => vocabulary,
    timeZone,
    confidentialityRules: () => deps.config.confidentialityRules,
    anomalies: deps.config.anomalies,
    verifyMaxAgeMs: deps.config.verifyMaxAgeMs,
    ...(deps.onLogVerification ? { onLogVerification: deps.onLogVerification } : {}),
    ...(deps.now ? { now: deps.now } : {}),
    ...(deps.transparency ? { transparency: deps.transparency } : {}),
  });
  const logError = deps.logError ?? ((record) => console.error(JSON.stringify({ msg: 'audit request error', ...record })));
  const files = new Map(Object.keys(CONSOLE_FILES).map((name) => [name, readFileSync(path.join(deps.config.consoleDir, name))]));

  function formatError(error: GraphQLError, requestId: string): GraphQLFormattedError {
    const original = error.originalError;
    if (isGatewayError(original)) return maskUnexpectedError({ ...original.toFormatted(), ...(error.path ? { path: error.path } : {}) });
    if (!original) return maskUnexpectedError({ ...error.toJSON(), extensions: { ...error.extensions, code: error.extensions['code'] ?? 'GRAPHQL_VALIDATION_FAILED' } });
    logError({ requestId, code: 'INTERNAL_SERVER_ERROR', message: original.message, ...(error.path ? { path: error.path.join('.') } : {}) });
    return maskUnexpectedError({ message: error.message, extensions: { code: 'INTERNAL_SERVER_ERROR' } });
  }

  async function graphql(request: IncomingMessage, response: ServerResponse, caller: AuditCaller): Promise<void> {
    const body = (await readJsonBody(request, MAX_BODY_BYTES, { optional: false, requireContentType: true })) as {
      query?: unknown;
      variables?: unknown;
      operationName?: unknown;
    } | null;
    if (typeof body?.query !== 'string') throw new GatewayError('BAD_REQUEST', 'Expected {"query": string}.');
    let document: DocumentNode;
    try {
      document = parse(body.query);
    } catch (error) {
      return send(response, 400, 'application/json; charset=utf-8', JSON.stringify({ errors: [{ message: (error as Error).message, extensions: { code: 'GRAPHQL_PARSE_FAILED' } }] }));
    }
    const invalid = validate(schema, document, specifiedRules);
    if (invalid.length > 0) {
      return send(response, 400, 'application/json; charset=utf-8', JSON.stringify({ errors: invalid.map((e) => ({ message: e.message, extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } })) }));
    }
    const context: AuditContext = { caller, service, registry: deps.registry, vocabulary, timeZone };
    const result = await execute({
      schema,
      document,
      contextValue: context,
      variableValues: (body.variables ?? undefined) as Record<string, unknown> | undefined,
      operationName: typeof body.operationName === 'string' ? body.operationName : undefined,
    });
    const errors = result.errors?.map((e) => formatError(e, caller.requestId));
    // A refused query (403, 400) answers with its status when nothing else was returned.
    const coded = result.errors?.map((e) => e.originalError).find(isGatewayError);
    const status = result.data === null || result.data === undefined ? (coded?.httpStatus ?? (errors ? 400 : 200)) : 200;
    send(response, status, 'application/json; charset=utf-8', JSON.stringify({ ...(errors ? { errors } : {}), data: result.data ?? null, extensions: { requestId: caller.requestId } }));
  }

  const tokenCheck: AuditTokenCheck = {
    sessionKey: sessionVerificationKey(deps.signingKey),
    audience: deps.audience,
    maxSessionSeconds: deps.config.sessionSeconds,
    replayCache: deps.replayCache,
    ...(deps.now ? { now: deps.now } : {}),
  };
  const officialAuthentication = { registry: deps.registry, trust: deps.trust, officials: deps.officials, ...(deps.now ? { now: deps.now } : {}) };

  /** The audit roles the official and their agency hold now, in the order a session picks them. */
  function auditRolesOf(identified: IdentifiedOfficial): AuditRole[] {
    return AUDIT_ROLES.filter((role) => officialHoldsRole(identified.official, identified.client.agency, role));
  }

  function requireAuditRole(identified: IdentifiedOfficial): AuditRole[] {
    const roles = auditRolesOf(identified);
    if (roles.length === 0) {
      throw new GatewayError('ROLE_NOT_ALLOWED', 'The access log is open to privacy officers and the supervisory authority only.', {
        agency: identified.client.agency.id,
        official: identified.official.id,
      });
    }
    return roles;
  }

  /**
   * POST /audit/session: the personal certificate and the registry entry are the credential; the
   * answer is an officer token bound to this certificate for the console to send as Bearer.
   */
  async function openSession(request: IncomingMessage, response: ServerResponse, identified: IdentifiedOfficial, extra: Record<string, string>): Promise<void> {
    const roles = requireAuditRole(identified);
    const asked = ((await readJsonBody(request, MAX_BODY_BYTES, { requireContentType: true })) as { role?: unknown } | null | undefined)?.role;
    if (asked !== undefined && !(AUDIT_ROLES as readonly unknown[]).includes(asked)) throw new GatewayError('BAD_USER_INPUT', `role must be one of ${AUDIT_ROLES.join(', ')}.`, { argument: 'role' });
    const role = (asked as AuditRole | undefined) ?? roles[0]!;
    const session = await issueOfficerSession({
      signingKey: deps.signingKey,
      client: identified.client,
      official: identified.official,
      role,
      audience: deps.audience,
      lifetimeSeconds: deps.config.sessionSeconds,
      ...(deps.now ? { now: deps.now() } : {}),
    });
    send(
      response,
      200,
      'application/json; charset=utf-8',
      JSON.stringify({
        token: session.token,
        expiresAt: session.expiresAt.toISOString(),
        role,
        roles,
        official: { id: identified.official.id, name: identified.official.name },
        agency: { id: identified.client.agency.id, name: identified.client.agency.name },
      }),
      extra,
    );
  }

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const requestId = randomUUID();
    const extra = { 'x-request-id': requestId };
    try {
      const url = new URL(request.url ?? '/', 'https://gateway.invalid');
      const method = (request.method ?? 'GET').toUpperCase();
      const route = url.pathname.replace(/^\/audit\/?/, '');
      const name = route === '' ? 'index.html' : route;
      if (method === 'GET' && PUBLIC_FILES.has(name)) return send(response, 200, CONSOLE_FILES[name] ?? 'text/plain', files.get(name) ?? '', extra);
      const identified = identifyOfficial(request, officialAuthentication);
      if (method === 'GET') {
        requireAuditRole(identified);
        const file = files.get(name);
        if (file === undefined) throw new GatewayError('NOT_FOUND', 'Not found.');
        return send(response, 200, CONSOLE_FILES[name] ?? 'application/octet-stream', file, extra);
      }
      if (method !== 'POST') throw new GatewayError('BAD_REQUEST', 'Use GET for the console and POST for the API.');
      checkSameOrigin(request);
      if (route === 'session') return await openSession(request, response, identified, extra);
      if (route === 'graphql') {
        const caller = await authenticateAuditCaller(request, requestId, identified, requestTokenFromHeaders(request.headers), tokenCheck);
        return await graphql(request, response, caller);
      }
      if (route === 'export.csv' || route === 'citizen-report') {
        const fields = await readFields(request);
        // A form the console posts into a new tab cannot set headers: its token comes as a field.
        const caller = await authenticateAuditCaller(request, requestId, identified, requestTokenFromHeaders(request.headers) ?? fields['token'], tokenCheck, fields['auditCase']);
        if (route === 'export.csv') {
          const { csv, complete } = await service.exportCsv(caller, filterFrom(fields), languageOf(fields));
          const stamp = new Date().toISOString().replace(/[:.]/g, '-');
          return send(response, 200, 'text/csv; charset=utf-8', csv, { ...extra, 'content-disposition': `attachment; filename="access-log-${stamp}.csv"`, 'x-export-complete': String(complete) });
        }
        const report = await service.citizenReport(caller, fields['personnummer'] ?? '', { since: sinceFrom(fields['since']) });
        if (fields['format'] === 'json') return send(response, 200, 'application/json; charset=utf-8', JSON.stringify(report), extra);
        return send(
          response,
          200,
          'text/html; charset=utf-8',
          renderCitizenReportHtml(report, { vocabulary, language: languageOf(fields), timeZone, verification: service.verifyOwnReport(report) }),
          extra,
        );
      }
      throw new GatewayError('NOT_FOUND', 'Not found.');
    } catch (error) {
      if (!isGatewayError(error)) logError({ requestId, code: 'INTERNAL_SERVER_ERROR', message: (error as Error).message });
      // A person who opened the console (or its printable report) gets a page saying what is needed, with the code.
      if (isGatewayError(error) && wantsPage(request) && !response.headersSent) {
        return send(response, error.httpStatus, 'text/html; charset=utf-8', renderErrorPage(error, requestId, pageLanguage(request)), { ...extra, 'x-error-code': error.code });
      }
      sendFailure(response, error, extra);
    }
  }

  return { prefix: '/audit', handle };
}
