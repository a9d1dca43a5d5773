import http, { type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { formatVerifierKey, type NoteVerifier } from '../transparency/note.js';
import type { Witness } from './witness.js';

const MAX_BODY_BYTES = 64 * 1024;

export interface WitnessServerOptions {
  /** Server certificate and key (PEM): HTTPS. Without them plain HTTP, which the configuration allows in development only. */
  readonly tls?: { readonly cert: string | Buffer; readonly key: string | Buffer };
  /** Keys the witness rotated away from: published after the current one, so verifiers keep accepting what they cosigned. */
  readonly previousKeys?: readonly NoteVerifier[];
}

/**
 * The witness's interface: `POST /add-checkpoint` (C2SP tlog-witness) and `GET /verifier-key`,
 * the keys a verifier configures (the current one first). A cosignature is checked by its
 * signature, not by the channel; HTTPS is still the default, so that nobody on the path learns
 * which checkpoints the log publishes or can answer a refusal in the witness's name.
 */
export function witnessServer(witness: Witness, options: WitnessServerOptions = {}): Server {
  const keys = [witness.verifier, ...(options.previousKeys ?? [])].map((key) => `${formatVerifierKey(key)}\n`).join('');
  const handler = (request: IncomingMessage, response: ServerResponse) => {
    const send = (status: number, contentType: string, body: string) => {
      response.writeHead(status, { 'content-type': contentType, 'cache-control': 'no-store' });
      response.end(body);
    };
    const url = new URL(request.url ?? '/', 'http://witness');
    if (request.method === 'GET' && url.pathname === '/verifier-key') return send(200, 'text/plain; charset=utf-8', keys);
    if (url.pathname !== '/add-checkpoint') return send(404, 'text/plain; charset=utf-8', 'not found\n');
    if (request.method !== 'POST') return send(405, 'text/plain; charset=utf-8', 'POST only\n');
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        send(413, 'text/plain; charset=utf-8', 'request body too large\n');
        request.destroy();
        return;
      }
      chunks.push(chunk);
    });
    request.on('end', () => {
      if (response.headersSent) return;
      try {
        const answer = witness.addCheckpoint(Buffer.concat(chunks).toString('utf8'));
        send(answer.status, answer.contentType, answer.body);
      } catch {
        // No detail to the client: the state database failed, and nothing was cosigned.
        send(500, 'text/plain; charset=utf-8', 'witness error\n');
      }
    });
  };
  return options.tls ? https.createServer({ cert: options.tls.cert, key: options.tls.key, minVersion: 'TLSv1.2' }, handler) : http.createServer(handler);
}

export async function listen(server: Server, port: number, host: string): Promise<AddressInfo> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return server.address() as AddressInfo;
}
