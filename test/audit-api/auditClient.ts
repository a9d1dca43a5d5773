import { readFileSync } from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { mintOfficerToken } from '../../src/client/index.js';
import type { Stack } from '../support/stack.js';

export interface AuditResponse {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly text: string;
}

export interface GraphQLAnswer<T = Record<string, any>> {
  readonly status: number;
  readonly data: T | null;
  readonly errors: Array<{ message: string; extensions?: { code?: string; [key: string]: unknown } }> | undefined;
}

/** Whose certificate the client presents: an official's personal one, or an agency's system certificate. */
export type Holder = { readonly official: string } | { readonly agency: string };

/**
 * How each request is authorised: an officer session opened once (the console's way), a token the
 * personal certificate's key signs per request (a script's way), or none.
 */
export type TokenMode = 'session' | 'signed' | 'none';

export function certificateFiles(stack: Stack, holder: Holder): { cert: string; key: string } {
  const [dir, name] = 'official' in holder ? ['officials', holder.official] : ['agencies', holder.agency];
  return { cert: path.join(stack.certsDir, dir, `${name}.crt`), key: path.join(stack.certsDir, dir, `${name}.key`) };
}

/** The audit API as an official's program (or, to be refused, a partner system) reaches it over mTLS. */
export function auditClient(stack: Stack, holder: Holder, options: { readonly tokens?: TokenMode; readonly role?: 'PRIVACY_OFFICER' | 'SUPERVISOR' } = {}) {
  const files = certificateFiles(stack, holder);
  const certificate = readFileSync(files.cert, 'utf8');
  const privateKey = readFileSync(files.key, 'utf8');
  const agent = new https.Agent({ cert: certificate, key: privateKey, ca: readFileSync(path.join(stack.certsDir, 'ca.crt')), keepAlive: false });
  const origin = new URL(stack.gateway.url).origin;
  const mode: TokenMode = options.tokens ?? ('official' in holder ? 'session' : 'none');
  let session: string | undefined;

  function request(method: string, pathname: string, body?: string, headers: Record<string, string> = {}): Promise<AuditResponse> {
    return new Promise((resolve, reject) => {
      const req = https.request(`${origin}${pathname}`, { method, agent, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
      });
      req.on('error', reject);
      req.end(body);
    });
  }

  async function openSession(role = options.role): Promise<AuditResponse> {
    return request('POST', '/audit/session', JSON.stringify(role ? { role } : {}), { 'content-type': 'application/json' });
  }

  /** A fresh officer token signed with the personal certificate's key. */
  function signedToken(overrides: { role?: 'PRIVACY_OFFICER' | 'SUPERVISOR'; lifetimeSeconds?: number; now?: Date; caseId?: string } = {}): Promise<string> {
    if (!('official' in holder)) throw new Error('Only an official signs officer tokens.');
    return mintOfficerToken({ certificate, privateKey, official: holder.official, role: overrides.role ?? options.role ?? 'PRIVACY_OFFICER', ...overrides });
  }

  async function authorization(): Promise<Record<string, string>> {
    if (mode === 'none') return {};
    if (mode === 'signed') return { authorization: `Bearer ${await signedToken()}` };
    if (session === undefined) {
      const opened = await openSession();
      if (opened.status !== 200) throw new Error(`POST /audit/session answered ${opened.status}: ${opened.text}`);
      session = (JSON.parse(opened.text) as { token: string }).token;
    }
    return { authorization: `Bearer ${session}` };
  }

  return {
    request,
    openSession,
    signedToken,
    async graphql<T = Record<string, any>>(query: string, variables: Record<string, unknown> = {}, headers: Record<string, string> = {}): Promise<GraphQLAnswer<T>> {
      const response = await request('POST', '/audit/graphql', JSON.stringify({ query, variables }), { 'content-type': 'application/json', ...(await authorization()), ...headers });
      const body = JSON.parse(response.text) as { data?: T | null; errors?: GraphQLAnswer['errors'] };
      return { status: response.status, data: body.data ?? null, errors: body.errors };
    },
    async post(pathname: string, fields: Record<string, string>, headers: Record<string, string> = {}): Promise<AuditResponse> {
      return request('POST', pathname, new URLSearchParams(fields).toString(), { 'content-type': 'application/x-www-form-urlencoded', ...(await authorization()), ...headers });
    },
    close(): void {
      agent.destroy();
    },
  };
}

export const ENTRY_FIELDS = 'id kind time clientAgency { id } official purpose caseId subject field category owningAgency outcome outcomeCode operationName';

/** Rows of a CSV in the export's dialect (`;`, CRLF, RFC 4180 quoting, a BOM first). */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  const body = text.startsWith('\uFEFF') ? text.slice(1) : text;
  for (let i = 0; i < body.length; i += 1) {
    const char = body[i]!;
    if (quoted) {
      if (char === '"' && body[i + 1] === '"') {
        cell += '"';
        i += 1;
      } else if (char === '"') quoted = false;
      else cell += char;
    } else if (char === '"') quoted = true;
    else if (char === ';') {
      row.push(cell);
      cell = '';
    } else if (char === '\r' && body[i + 1] === '\n') {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
      i += 1;
    } else cell += char;
  }
  if (cell !== '' || row.length > 0) rows.push([...row, cell]);
  return rows;
}
