import { X509Certificate, createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Agent, request } from 'undici';
import type { GraphQLFormattedError } from 'graphql';
import { mintRequestToken, type RequestTokenClaims } from './mintRequestToken.js';

export interface AgencyClientOptions extends RequestTokenClaims {
  /** PEM files: the agency's client certificate and key, and the federation CA that issued the gateway's certificate. */
  readonly certPath: string;
  readonly keyPath: string;
  readonly caPath: string;
  /** e.g. https://localhost:4000/graphql */
  readonly gatewayUrl: string;
  readonly audience?: string;
}

export interface GraphQLResponse<TData = Record<string, unknown>> {
  readonly data?: TData | null;
  readonly errors?: readonly GraphQLFormattedError[];
  readonly extensions?: Record<string, unknown>;
}

export interface QueryOptions extends Partial<RequestTokenClaims> {
  readonly operationName?: string;
  readonly signal?: AbortSignal;
  /**
   * Send this trusted document id (`sha256:…`) instead of the document text; the gateway runs the
   * text registered for the agency under it. The `document` argument is then not sent.
   */
  readonly documentId?: string;
}

export interface AgencyClient {
  /** Sends one operation with a freshly minted request token. Resolves with the HTTP status and the GraphQL response. */
  query<TData = Record<string, unknown>>(document: string, variables?: Record<string, unknown>, options?: QueryOptions): Promise<GraphQLResponse<TData> & { readonly status: number }>;
  close(): Promise<void>;
}

/**
 * A partner agency's client of the gateway: mutual TLS with the agency certificate over a
 * keep-alive connection pool, and a new certificate-bound token per request. The defaults for
 * official, purpose, case and subjects can be changed per query.
 */
export function createAgencyClient(options: AgencyClientOptions): AgencyClient {
  const certificatePem = readFileSync(options.certPath, 'utf8');
  const keyPem = readFileSync(options.keyPath, 'utf8');
  const certificate = new X509Certificate(certificatePem);
  const privateKey = createPrivateKey(keyPem);
  const agent = new Agent({
    connect: { ca: readFileSync(options.caPath, 'utf8'), cert: certificatePem, key: keyPem },
    keepAliveTimeout: 30_000,
  });

  async function query<TData>(document: string, variables?: Record<string, unknown>, queryOptions: QueryOptions = {}): Promise<GraphQLResponse<TData> & { readonly status: number }> {
    const token = await mintRequestToken({
      certificate,
      privateKey,
      official: queryOptions.official ?? options.official,
      purpose: queryOptions.purpose ?? options.purpose,
      caseId: queryOptions.caseId ?? options.caseId,
      subjects: queryOptions.subjects ?? options.subjects,
      ...(options.audience === undefined ? {} : { audience: options.audience }),
    });
    const response = await request(options.gatewayUrl, {
      method: 'POST',
      dispatcher: agent,
      headers: {
        'content-type': 'application/json',
        accept: 'application/graphql-response+json, application/json',
        authorization: `Bearer ${token}`,
      },
      body: JSON.stringify({
        ...(queryOptions.documentId === undefined ? { query: document } : { documentId: queryOptions.documentId }),
        ...(variables === undefined ? {} : { variables }),
        ...(queryOptions.operationName === undefined ? {} : { operationName: queryOptions.operationName }),
      }),
      ...(queryOptions.signal === undefined ? {} : { signal: queryOptions.signal }),
    });
    const text = await response.body.text();
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw new Error(`The gateway answered HTTP ${response.statusCode} without a JSON body.`);
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw new Error(`The gateway answered HTTP ${response.statusCode} with JSON that is not a GraphQL response.`);
    }
    return { ...(body as GraphQLResponse<TData>), status: response.statusCode };
  }

  return { query, close: () => agent.close() };
}
