import type { IncomingMessage } from 'node:http';
import { GatewayError } from '../errors/index.js';

/**
 * Headers Node keeps only the first of when a request repeats them (its documented list, the ones a
 * request can carry). A second Authorization or Content-Type would be read by one hop (a proxy, a
 * log) and not by the gateway: a request that repeats one is refused instead of half-read.
 */
const SINGLE_VALUED = [
  'authorization',
  'content-length',
  'content-type',
  'from',
  'host',
  'if-modified-since',
  'if-unmodified-since',
  'max-forwards',
  'proxy-authorization',
  'referer',
  'user-agent',
] as const;

/**
 * What every route refuses about a request's framing before reading it, each with its own code:
 * a repeated single-valued header, an HTTP/1.1 request without Host (Node's own answer to it is
 * a bare 400), a body in a content coding (the gateway reads bodies uncompressed; a gzip label on
 * a plain body ran, a real gzip body was "not valid JSON"), a transfer coding besides chunked.
 */
export function requestHeaderRefusal(request: IncomingMessage): GatewayError | undefined {
  for (const name of SINGLE_VALUED) {
    if ((request.headersDistinct[name]?.length ?? 0) > 1) {
      return new GatewayError('BAD_REQUEST', `The ${name} header is given more than once.`, { reason: 'REPEATED_HEADER', header: name });
    }
  }
  if (request.httpVersion === '1.1' && request.headers.host === undefined) {
    return new GatewayError('BAD_REQUEST', 'An HTTP/1.1 request must have a Host header.', { reason: 'MISSING_HOST' });
  }
  const coding = request.headers['content-encoding'];
  if (coding !== undefined && coding.trim().toLowerCase() !== 'identity') {
    return new GatewayError('UNSUPPORTED_MEDIA_TYPE', 'Content-Encoding is not supported: send the body uncompressed.', { header: 'content-encoding' });
  }
  const transfer = request.headers['transfer-encoding'];
  if (transfer?.split(',').some((part) => part.trim().toLowerCase() !== 'chunked')) {
    return new GatewayError('UNSUPPORTED_MEDIA_TYPE', 'Transfer-Encoding may only be chunked: send the body uncompressed.', { header: 'transfer-encoding' });
  }
  return undefined;
}
