import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { formatVerifierKey } from '../transparency/note.js';
import type { Witness } from './witness.js';

const MAX_BODY_BYTES = 64 * 1024;

/**
 * The witness's HTTP interface: `POST /add-checkpoint` (C2SP tlog-witness) and
 * `GET /verifier-key`, the key a verifier configures. Plain HTTP is enough for the protocol: a
 * cosignature is checked by its signature, not by the channel; put TLS in front where the
 * network asks for it.
 */
export function witnessServer(witness: Witness): Server {
  return createServer((request, response) => {
    const send = (status: number, contentType: string, body: string) => {
      response.writeHead(status, { 'content-type': contentType, 'cache-control': 'no-store' });
      response.end(body);
    };
    const url = new URL(request.url ?? '/', 'http://witness');
    if (request.method === 'GET' && url.pathname === '/verifier-key') return send(200, 'text/plain; charset=utf-8', `${formatVerifierKey(witness.verifier)}\n`);
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
  });
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
