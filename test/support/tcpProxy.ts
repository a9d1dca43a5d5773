import net from 'node:net';
import type { AddressInfo } from 'node:net';

/**
 * A TCP proxy in front of a subgraph that can fail on demand: `hold()` accepts connections and
 * forwards nothing (a hanging agency), `kill()` drops every connection and refuses new ones (a dead
 * agency), `revive()` listens again on the same port. TLS passes through untouched.
 */
export interface FaultProxy {
  readonly port: number;
  /** `https://localhost:<proxy port>/graphql` for an upstream `https://127.0.0.1:<port>/graphql`. */
  urlFor(upstreamUrl: string): string;
  hold(): void;
  /** Forwards again; held connections are connected upstream now. */
  release(): void;
  /** Resolves once `count` connections are being held. */
  held(count?: number): Promise<void>;
  kill(): Promise<void>;
  revive(): Promise<void>;
  close(): Promise<void>;
}

export async function startFaultProxy(upstreamPort: number): Promise<FaultProxy> {
  let holding = false;
  const sockets = new Set<net.Socket>();
  const heldSockets: net.Socket[] = [];
  const heldWaiters: Array<{ count: number; resolve: () => void }> = [];
  const pairs = new Map<net.Socket, net.Socket>();
  const forward = (client: net.Socket) => {
    const upstream = net.connect(upstreamPort, '127.0.0.1');
    sockets.add(upstream);
    pairs.set(client, upstream);
    upstream.on('close', () => {
      sockets.delete(upstream);
      pairs.delete(client);
      client.destroy();
    });
    client.on('close', () => upstream.destroy());
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    client.pipe(upstream).pipe(client);
    if (holding) {
      client.unpipe(upstream);
      client.pause();
    }
  };
  const server = net.createServer((client) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => undefined);
    if (holding) {
      client.pause();
      heldSockets.push(client);
      for (const waiter of heldWaiters.filter((w) => heldSockets.length >= w.count)) {
        heldWaiters.splice(heldWaiters.indexOf(waiter), 1);
        waiter.resolve();
      }
      return;
    }
    forward(client);
  });
  const listen = (port: number) =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
  await listen(0);
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    urlFor: (upstreamUrl) => upstreamUrl.replace(/:\d+\//, `:${port}/`),
    hold() {
      holding = true;
      // Connections already open stall too: what the gateway sends is no longer passed on.
      for (const [client, upstream] of pairs) {
        client.unpipe(upstream);
        client.pause();
      }
    },
    release() {
      holding = false;
      for (const [client, upstream] of pairs) client.pipe(upstream);
      for (const client of heldSockets.splice(0)) {
        if (client.destroyed) continue;
        forward(client);
        client.resume();
      }
    },
    held(count = 1) {
      return heldSockets.length >= count ? Promise.resolve() : new Promise((resolve) => heldWaiters.push({ count, resolve }));
    },
    async kill() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
        heldSockets.length = 0;
      });
    },
    async revive() {
      await listen(port);
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      if (server.listening) await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
