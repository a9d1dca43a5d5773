import { STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { GatewayError } from '../errors/index.js';
import { sendError } from './responses.js';

/** Where a connection was when its client was too slow: in the TLS handshake, before its last header, or in its body. */
export type SlowPhase = 'handshake' | 'headers' | 'body';

export interface ClientErrorOptions {
  /** An answer that replaces the usual one on this connection (a connection refused by a cap). */
  refusalFor?(socket: Duplex): GatewayError | undefined;
  /** Counts a connection closed for a headers or request timeout. */
  onTimeout?(phase: SlowPhase): void;
}

/** A client that does not read even a short answer is not waited for. */
const ANSWER_LINGER_MS = 1000;

function refusalOf(error: NodeJS.ErrnoException): GatewayError {
  switch (error.code) {
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return new GatewayError('REQUEST_TIMEOUT', 'The request did not arrive in time; the connection is closed.');
    case 'HPE_HEADER_OVERFLOW':
      return new GatewayError('REQUEST_HEADERS_TOO_LARGE', 'The request headers are too large.');
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return new GatewayError('REQUEST_TOO_LARGE', 'The request body is too large.');
    default:
      // llhttp's codes (HPE_INVALID_METHOD, ...) say what is wrong and quote nothing of the request.
      return new GatewayError('BAD_REQUEST', 'The request is not valid HTTP/1.1.', { ...(error.code && /^HPE_[A-Z_]{1,40}$/.test(error.code) ? { reason: error.code } : {}) });
  }
}

/** Writes a coded JSON answer straight to the socket (there is no response object) and closes it. */
function answerAndClose(socket: Duplex, error: GatewayError): void {
  const body = JSON.stringify(error.toResponseBody());
  const head = [
    `HTTP/1.1 ${error.httpStatus} ${STATUS_CODES[error.httpStatus] ?? ''}`,
    'content-type: application/json; charset=utf-8',
    `content-length: ${Buffer.byteLength(body)}`,
    'connection: close',
    ...[...error.httpHeaders].map(([name, value]) => `${name}: ${value}`),
  ];
  const linger = setTimeout(() => socket.destroy(), ANSWER_LINGER_MS);
  linger.unref();
  socket.once('close', () => clearTimeout(linger));
  socket.once('finish', () => socket.destroy());
  socket.end(`${head.join('\r\n')}\r\n\r\n${body}`);
}

/**
 * Answers what Node's HTTP parser refuses before or while a request reaches its handler (a
 * headers or request timeout, a malformed request, oversized headers) as every other refusal is
 * answered: a status, a JSON body with `extensions.code`, and the connection closed. Node's own
 * answer is a bare status line a partner's client cannot tell from a proxy's.
 */
export function answerClientErrors(server: Server, options: ClientErrorOptions = {}): void {
  // The request a connection is receiving or answering: a timeout in its body must not write a
  // second status line into a response that has begun.
  const current = new WeakMap<Duplex, { readonly request: IncomingMessage; readonly response: ServerResponse }>();
  server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    const socket = request.socket;
    current.set(socket, { request, response });
    response.once('finish', () => {
      if (current.get(socket)?.response === response) current.delete(socket);
    });
  });
  // An Expect other than 100-continue never reaches a route; Node's own answer is a bare 417.
  server.on('checkExpectation', (_request: IncomingMessage, response: ServerResponse) => {
    sendError(response, new GatewayError('EXPECTATION_FAILED', 'Only "Expect: 100-continue" is supported.'), { connection: 'close' });
  });
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
    const exchange = current.get(socket);
    if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT') options.onTimeout?.(exchange && !exchange.request.complete ? 'body' : 'headers');
    // Seen under load: the TLS handshake's timer firing once the connection had been handed over.
    // Nothing was asked on it yet, so there is nothing to answer.
    const handshake = error.code === 'ERR_TLS_HANDSHAKE_TIMEOUT';
    if (handshake) options.onTimeout?.('handshake');
    if (handshake || !socket.writable || exchange?.response.headersSent) {
      socket.destroy();
      return;
    }
    answerAndClose(socket, options.refusalFor?.(socket) ?? refusalOf(error));
  });
}
