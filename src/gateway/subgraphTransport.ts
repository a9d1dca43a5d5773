import { Agent, fetch as undiciFetch } from 'undici';
import type { Fetcher } from '@apollo/utils.fetcher';

/** TLS material the gateway presents to subgraphs and the CA it trusts them with. */
export interface SubgraphTlsOptions {
  readonly ca: string | Buffer;
  readonly cert: string | Buffer;
  readonly key: string | Buffer;
}

export interface SubgraphTransport {
  readonly fetcher: Fetcher;
  close(): Promise<void>;
}

/**
 * The one place the gateway opens connections to subgraphs: a keep-alive undici pool, with the
 * gateway's client certificate when TLS is configured. Plain http is refused unless the caller
 * explicitly allows it (development mode only).
 */
export function createSubgraphTransport(options: { tls?: SubgraphTlsOptions; allowPlainHttp?: boolean; timeoutMs: number }): SubgraphTransport {
  const agent = new Agent({
    connections: 64,
    keepAliveTimeout: 30_000,
    headersTimeout: options.timeoutMs,
    bodyTimeout: options.timeoutMs,
    ...(options.tls ? { connect: { ca: options.tls.ca, cert: options.tls.cert, key: options.tls.key } } : {}),
  });
  const fetcher = (async (url: string, init?: Record<string, unknown>) => {
    if (url.startsWith('http:') && !options.allowPlainHttp) {
      throw new Error('Plain-http subgraph URL refused: subgraphs are reached over mutual TLS outside development mode.');
    }
    return undiciFetch(url, { ...(init as object), dispatcher: agent, signal: AbortSignal.timeout(options.timeoutMs) });
  }) as unknown as Fetcher;
  return {
    fetcher,
    close: () => agent.close(),
  };
}
