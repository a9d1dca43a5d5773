import http from 'node:http';
import https from 'node:https';

/**
 * One add-checkpoint POST to a witness, over HTTPS verified against `ca` (or plain HTTP where the
 * configuration allowed it: development only). node:https rather than fetch: the witness's
 * certificate is checked against the CA we were given, not the process's default trust, and a
 * failure says which step failed.
 */
export interface WitnessAnswer {
  readonly status: number;
  readonly contentType: string;
  readonly body: string;
}

/** Why a witness could not be asked: it never answered (refused, reset, timed out, bad TLS). */
export class WitnessUnreachableError extends Error {
  constructor(
    readonly reason: 'timeout' | 'tls' | 'connection',
    readonly errorCode: string | undefined,
  ) {
    super(`witness unreachable (${reason}${errorCode ? ` ${errorCode}` : ''})`);
    this.name = 'WitnessUnreachableError';
  }
}

const MAX_ANSWER_BYTES = 64 * 1024;
const TLS_CODES = /^(?:ERR_TLS_|ERR_SSL_|CERT_|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_|ERR_OSSL_|HOSTNAME_MISMATCH)/;

export function postToWitness(url: string, body: string, options: { readonly ca?: string | Buffer | undefined; readonly timeoutMs: number }): Promise<WitnessAnswer> {
  const target = new URL(url);
  const secure = target.protocol === 'https:';
  return new Promise((resolve, reject) => {
    let settled = false;
    const fail = (error: Error) => {
      if (settled) return;
      settled = true;
      reject(error);
    };
    const request = (secure ? https : http).request(
      target,
      {
        method: 'POST',
        headers: { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body) },
        timeout: options.timeoutMs,
        ...(secure ? { ca: options.ca, rejectUnauthorized: true, agent: false } : { agent: false }),
      },
      (response) => {
        const chunks: Buffer[] = [];
        let size = 0;
        response.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_ANSWER_BYTES) {
            request.destroy(new WitnessUnreachableError('connection', 'ANSWER_TOO_LARGE'));
            return;
          }
          chunks.push(chunk);
        });
        response.on('end', () => {
          if (settled) return;
          settled = true;
          resolve({ status: response.statusCode ?? 0, contentType: String(response.headers['content-type'] ?? ''), body: Buffer.concat(chunks).toString('utf8') });
        });
        response.on('error', (error) => fail(unreachable(error)));
      },
    );
    // One bound for the whole exchange: a witness that accepts and never answers costs one timeout.
    const timer = setTimeout(() => request.destroy(new WitnessUnreachableError('timeout', undefined)), options.timeoutMs);
    request.on('close', () => clearTimeout(timer));
    request.on('timeout', () => request.destroy(new WitnessUnreachableError('timeout', undefined)));
    request.on('error', (error) => fail(unreachable(error)));
    request.end(body);
  });
}

function unreachable(error: Error): WitnessUnreachableError {
  if (error instanceof WitnessUnreachableError) return error;
  const code = (error as NodeJS.ErrnoException).code;
  return new WitnessUnreachableError(code !== undefined && TLS_CODES.test(code) ? 'tls' : 'connection', code !== undefined && /^[A-Z0-9_]{1,48}$/.test(code) ? code : undefined);
}
