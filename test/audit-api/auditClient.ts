import { readFileSync } from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import type { Stack } from '../support/stack.js';

export interface AuditResponse {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly text: string;
}

export interface GraphQLAnswer<T = Record<string, any>> {
  readonly status: number;
  readonly data: T | null;
  readonly errors: Array<{ message: string; extensions?: { code?: string } }> | undefined;
}

/**
 * The audit API as a privacy officer's or supervisor's program reaches it: the agency's client
 * certificate on the gateway's mTLS listener, no request token.
 */
export function auditClient(stack: Stack, agencyId: string, options: { official?: string } = {}) {
  const agent = new https.Agent({
    cert: readFileSync(path.join(stack.certsDir, 'agencies', `${agencyId}.crt`)),
    key: readFileSync(path.join(stack.certsDir, 'agencies', `${agencyId}.key`)),
    ca: readFileSync(path.join(stack.certsDir, 'ca.crt')),
    keepAlive: false,
  });
  const origin = new URL(stack.gateway.url).origin;

  function request(method: string, pathname: string, body?: string, headers: Record<string, string> = {}): Promise<AuditResponse> {
    return new Promise((resolve, reject) => {
      const req = https.request(
        `${origin}${pathname}`,
        { method, agent, headers: { ...(options.official ? { 'x-official': options.official } : {}), ...headers } },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  }

  return {
    request,
    async graphql<T = Record<string, any>>(query: string, variables: Record<string, unknown> = {}): Promise<GraphQLAnswer<T>> {
      const response = await request('POST', '/audit/graphql', JSON.stringify({ query, variables }), { 'content-type': 'application/json' });
      const body = JSON.parse(response.text) as { data?: T | null; errors?: GraphQLAnswer['errors'] };
      return { status: response.status, data: body.data ?? null, errors: body.errors };
    },
    post(pathname: string, fields: Record<string, string>): Promise<AuditResponse> {
      return request('POST', pathname, new URLSearchParams(fields).toString(), { 'content-type': 'application/x-www-form-urlencoded' });
    },
    close(): void {
      agent.destroy();
    },
  };
}

export const ENTRY_FIELDS = 'id kind time clientAgency { id } official purpose caseId subject field category owningAgency outcome outcomeCode operationName';
