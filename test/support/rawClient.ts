import { X509Certificate, createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Agent, request } from 'undici';
import { mintRequestToken, type RequestTokenClaims } from '../../src/client/mintRequestToken.js';

export interface RawResponse {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly text: string;
  /** The parsed JSON body, or undefined when it is not JSON. */
  readonly json: any;
}

export interface RawRequest {
  readonly method?: 'GET' | 'POST' | 'PUT';
  readonly path?: string;
  /** Sent as is. */
  readonly body?: string | Buffer;
  readonly headers?: Record<string, string>;
  /** A request token is minted from these unless `token` is given or `noToken` is set. */
  readonly claims?: RequestTokenClaims;
  readonly token?: string;
  readonly noToken?: boolean;
}

/**
 * A partner agency speaking raw HTTP to the gateway over mutual TLS: what createAgencyClient does,
 * but any body, header or token, for tests of hostile or unusual requests.
 */
export interface RawClient {
  send(options: RawRequest): Promise<RawResponse>;
  /** A fresh bound token; `now` sets its `iat` (a client whose clock runs ahead). */
  mint(claims: RequestTokenClaims & { readonly now?: Date }): Promise<string>;
  close(): Promise<void>;
}

/** `agencyId` null: a client with no certificate at all (it trusts the federation CA, and cannot mint tokens). */
export function createRawClient(certsDir: string, agencyId: string | null, gatewayUrl: string, options: { readonly connections?: number } = {}): RawClient {
  const credentials =
    agencyId === null ? undefined : { cert: readFileSync(path.join(certsDir, 'agencies', `${agencyId}.crt`), 'utf8'), key: readFileSync(path.join(certsDir, 'agencies', `${agencyId}.key`), 'utf8') };
  const agent = new Agent({ connect: { ca: readFileSync(path.join(certsDir, 'ca.crt'), 'utf8'), ...credentials }, keepAliveTimeout: 30_000, connections: options.connections ?? 8 });
  const origin = new URL(gatewayUrl).origin;
  const signer = credentials && { certificate: new X509Certificate(credentials.cert), privateKey: createPrivateKey(credentials.key) };
  const mint = (claims: RequestTokenClaims & { readonly now?: Date }) => {
    if (!signer) throw new TypeError('A client without a certificate cannot mint request tokens.');
    return mintRequestToken({ ...signer, ...claims });
  };
  return {
    mint,
    async send(req) {
      const token = req.token ?? (req.noToken || !req.claims ? undefined : await mint(req.claims));
      const response = await request(`${origin}${req.path ?? '/graphql'}`, {
        method: req.method ?? 'POST',
        dispatcher: agent,
        headers: {
          ...(req.method === 'GET' ? {} : { 'content-type': 'application/json' }),
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          ...req.headers,
        },
        ...(req.body === undefined ? {} : { body: req.body }),
      });
      const text = await response.body.text();
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
      return { status: response.statusCode, headers: response.headers, text, json };
    },
    close: () => agent.close(),
  };
}
