import { EventEmitter } from 'node:events';
import { createSecureContext } from 'node:tls';
import { Agent, fetch as undiciFetch } from 'undici';
import type { Fetcher } from '@apollo/utils.fetcher';

/** TLS material the gateway presents to subgraphs and the CA it trusts them with. */
export interface SubgraphTlsOptions {
  readonly ca: string | Buffer;
  readonly cert: string | Buffer;
  readonly key: string | Buffer;
}

/** A subgraph's answer to a POST, read whole. */
export interface SubgraphAnswer {
  readonly status: number;
  readonly contentType: string | undefined;
  readonly text: string;
}

/** Posts a request body to a subgraph and reads the whole answer within the sender's timeout. */
export type SubgraphSender = (url: string, headers: Record<string, string>, body: string) => Promise<SubgraphAnswer>;

export interface SubgraphTransport {
  /** With the transport's default timeout (@apollo/gateway's own calls: health checks, schema loading). */
  readonly fetcher: Fetcher;
  /** The same pool with another whole-call timeout (a per-subgraph SUBGRAPH_TIMEOUTS entry). */
  fetcherWithTimeout(timeoutMs: number): Fetcher;
  /**
   * The same pool and checks for a partner request's subgraph calls, without the WHATWG fetch
   * machinery (Request, Headers, web streams, AbortSignal.timeout), which cost more CPU per call
   * than the call itself.
   */
  senderWithTimeout(timeoutMs: number): SubgraphSender;
  close(): Promise<void>;
}

/**
 * A call's whole-call timeout as undici's `signal`, which may be an EventEmitter as well as an
 * AbortSignal: an AbortController's EventTarget costs several times the CPU of the rest of the
 * timer per call. Expired, it aborts the call with a TimeoutError, as AbortSignal.timeout would.
 */
class CallDeadline extends EventEmitter {
  aborted = false;
  reason: unknown = undefined;

  expire(): void {
    this.aborted = true;
    this.reason = new DOMException('The subgraph did not answer in time.', 'TimeoutError');
    this.emit('abort');
  }
}

/** Past this many distinct subgraph URLs the parsed ones start over (a supergraph names a few). */
const MAX_TARGETS = 256;

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
    // One TLS context for every connection: given the PEM material instead, each new connection
    // parsed the key, certificate and CA bundle again.
    ...(options.tls ? { connect: { secureContext: createSecureContext({ ca: options.tls.ca, cert: options.tls.cert, key: options.tls.key }) } } : {}),
  });
  // The signal bounds the whole call (connect, headers and body): a slow agency cannot hold a request longer.
  const fetcherWithTimeout = (timeoutMs: number) =>
    (async (url: string, init?: Record<string, unknown>) => {
      if (url.startsWith('http:') && !options.allowPlainHttp) {
        throw new Error('Plain-http subgraph URL refused: subgraphs are reached over mutual TLS outside development mode.');
      }
      return undiciFetch(url, { ...(init as object), dispatcher: agent, signal: AbortSignal.timeout(timeoutMs) });
    }) as unknown as Fetcher;
  // A gateway calls a handful of subgraph URLs over and over: each is parsed once, not per call
  // (undici's `request(url)` parses the URL string on every call).
  const targets = new Map<string, { readonly origin: string; readonly path: string }>();
  const targetOf = (url: string) => {
    let target = targets.get(url);
    if (!target) {
      const parsed = new URL(url);
      target = { origin: parsed.origin, path: `${parsed.pathname}${parsed.search}` };
      if (targets.size >= MAX_TARGETS) targets.clear();
      targets.set(url, target);
    }
    return target;
  };
  const senderWithTimeout =
    (timeoutMs: number): SubgraphSender =>
    async (url, headers, body) => {
      if (url.startsWith('http:') && !options.allowPlainHttp) {
        throw new Error('Plain-http subgraph URL refused: subgraphs are reached over mutual TLS outside development mode.');
      }
      const { origin, path } = targetOf(url);
      // The whole call (connect, headers and body) within the timeout, as the fetcher's signal bounds it.
      const deadline = new CallDeadline();
      const timer = setTimeout(() => deadline.expire(), timeoutMs);
      try {
        const response = await agent.request({ origin, path, method: 'POST', headers, body, signal: deadline });
        const contentType = response.headers['content-type'];
        return { status: response.statusCode, contentType: Array.isArray(contentType) ? contentType[0] : contentType, text: await response.body.text() };
      } finally {
        clearTimeout(timer);
      }
    };
  return {
    fetcher: fetcherWithTimeout(options.timeoutMs),
    fetcherWithTimeout,
    senderWithTimeout,
    close: () => agent.close(),
  };
}
