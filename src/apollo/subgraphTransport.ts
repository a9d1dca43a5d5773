import { Agent, fetch as undiciFetch } from 'undici';
import type { Fetcher } from '@apollo/utils.fetcher';

/** TLS material the gateway presents to subgraphs and the CA it trusts them with. */
export interface SubgraphTlsOptions {
  readonly ca: string | Buffer;
  readonly cert: string | Buffer;
  readonly key: string | Buffer;
}

export interface SubgraphTransport {
  /** With the transport's default timeout. */
  readonly fetcher: Fetcher;
  /** The same pool with another whole-call timeout (a per-subgraph SUBGRAPH_TIMEOUTS entry). */
  fetcherWithTimeout(timeoutMs: number): Fetcher;
  close(): Promise<void>;
}

/**
 * The one place the gateway opens connections to subgraphs: a keep-alive undici pool, with the
 * gateway's client certificate when TLS is configured. Plain http is refused unless the caller
 * explicitly allows it (development mode only).
 */
export function createSubgraphTransport(options: { tls?: SubgraphTlsOptions; allowPlainHttp?: boolean; timeoutMs: number; longestTimeoutMs?: number }): SubgraphTransport {
  const longest = Math.max(options.timeoutMs, options.longestTimeoutMs ?? 0);
  const agent = new Agent({
    connections: 64,
    keepAliveTimeout: 30_000,
    headersTimeout: longest,
    bodyTimeout: longest,
    // A dead agency must fail fast at connect too, not after the OS's connect timeout.
    connectTimeout: Math.min(longest, 10_000),
    ...(options.tls ? { connect: { ca: options.tls.ca, cert: options.tls.cert, key: options.tls.key } } : {}),
  });
  // The signal bounds the whole call (connect, headers and body): a slow agency cannot hold a request longer.
  const fetcherWithTimeout = (timeoutMs: number) =>
    (async (url: string, init?: Record<string, unknown>) => {
      if (url.startsWith('http:') && !options.allowPlainHttp) {
        throw new Error('Plain-http subgraph URL refused: subgraphs are reached over mutual TLS outside development mode.');
      }
      return undiciFetch(url, { ...(init as object), dispatcher: agent, signal: AbortSignal.timeout(timeoutMs) });
    }) as unknown as Fetcher;
  return {
    fetcher: fetcherWithTimeout(options.timeoutMs),
    fetcherWithTimeout,
    close: () => agent.close(),
  };
}
