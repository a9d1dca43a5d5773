import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { RedisReplayCache } from '../../src/identity/redisReplayCache.js';
import { connectSharedRedis } from '../../src/redis/sharedRedis.js';

/**
 * A redis-server of the test's own on a free port, so a test can stop, hang, restart or flush it
 * without touching the Redis other tests share (127.0.0.1:6379). No persistence unless a test
 * saves a snapshot (`SAVE`), which a restart then loads, as a Redis with RDB snapshots would.
 */
export interface RedisServer {
  readonly port: number;
  readonly url: string;
  /** SIGSTOP: connections stay open and nothing is answered, as with a hung Redis. */
  pause(): void;
  /** SIGCONT: answers everything sent meanwhile, in order. */
  resume(): void;
  /** SIGKILL: gone, without saving; connections are reset. */
  kill(): Promise<void>;
  /** Starts again on the same port, from the last snapshot if one was saved. */
  start(): Promise<void>;
  /** One command on a connection of its own. */
  command(...args: string[]): Promise<unknown>;
  close(): Promise<void>;
}

export async function startRedisServer(options: { readonly args?: readonly string[] } = {}): Promise<RedisServer> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'exchange-redis-'));
  const port = await freePort();
  let child: ChildProcess | undefined;
  const start = async () => {
    child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, ...(options.args ?? [])], { stdio: 'ignore' });
    await untilAnswering(port);
  };
  const kill = async () => {
    const running = child;
    child = undefined;
    if (!running || running.exitCode !== null || running.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      running.once('exit', () => resolve());
      running.kill('SIGKILL');
    });
  };
  await start();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    pause: () => void child?.kill('SIGSTOP'),
    resume: () => void child?.kill('SIGCONT'),
    kill,
    start,
    async command(...args) {
      const redis = new Redis(port, '127.0.0.1', { maxRetriesPerRequest: 0 });
      try {
        return await redis.call(args[0]!, ...args.slice(1));
      } finally {
        redis.disconnect();
      }
    },
    async close() {
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Declares the replay keyspace of REDIS_PREFIX `prefix` unused, as for a new deployment, so the
 * first tokens of a test are not refused as possibly used before the keyspace existed.
 */
export async function declareReplayKeyspaceUnused(url: string, prefix: string): Promise<void> {
  const redis = await connectSharedRedis(url);
  try {
    await new RedisReplayCache(redis, { prefix: `${prefix}:jti` }).declareUnused();
  } finally {
    await redis.close();
  }
}

/**
 * A TCP proxy in front of a Redis that passes everything through and counts the commands clients
 * send (RESP arrays), whether or not Redis answers them: what a client asked of a hung Redis.
 */
export interface CommandCountingProxy {
  readonly url: string;
  commands(): number;
  close(): Promise<void>;
}

export async function startCommandCountingProxy(upstreamPort: number): Promise<CommandCountingProxy> {
  let commands = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(upstreamPort, '127.0.0.1');
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => undefined);
    }
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    upstream.pipe(client);
    let pending: Buffer = Buffer.alloc(0);
    client.on('data', (chunk: Buffer) => {
      upstream.write(chunk);
      const counted = countCommands(Buffer.concat([pending, chunk]));
      commands += counted.count;
      pending = counted.rest;
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    url: `redis://127.0.0.1:${(server.address() as AddressInfo).port}`,
    commands: () => commands,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Complete RESP commands (`*<n>` then n bulk strings) at the start of `buffer`, and what follows them. */
function countCommands(buffer: Buffer): { count: number; rest: Buffer } {
  let count = 0;
  let offset = 0;
  for (;;) {
    let at = offset;
    const header = line(buffer, at);
    if (!header) break;
    const items = Number(header.text.slice(1));
    at = header.next;
    let complete = true;
    for (let i = 0; i < items && complete; i++) {
      const length = line(buffer, at);
      const end = length ? length.next + Number(length.text.slice(1)) + 2 : Infinity;
      if (!length || end > buffer.length) complete = false;
      else at = end;
    }
    if (!complete) break;
    count += 1;
    offset = at;
  }
  return { count, rest: buffer.subarray(offset) };
}

function line(buffer: Buffer, from: number): { text: string; next: number } | undefined {
  const end = buffer.indexOf('\r\n', from);
  return end < 0 ? undefined : { text: buffer.toString('latin1', from, end), next: end + 2 };
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Resolves once the server answers PING; a server that never does fails the test after 20 s. */
async function untilAnswering(port: number): Promise<void> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const answered = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.setTimeout(1000, () => socket.destroy());
      socket.once('data', (data) => {
        socket.destroy();
        resolve(data.toString().startsWith('+PONG'));
      });
      socket.once('connect', () => socket.write('PING\r\n'));
      socket.once('close', () => resolve(false));
      socket.once('error', () => undefined);
    });
    if (answered) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`redis-server on port ${port} did not answer within 20 s`);
}
