// Which Socket.IO Redis adapter, and how to ask "is this user online anywhere": two
// Socket.IO servers in this process, joined through the local Redis by each adapter in
// turn, and one client on server B in its user's room. For each adapter:
//   - delivery latency: A emits to the room, one at a time, until the client has it;
//   - delivery throughput: A emits a burst, until the client has them all (and the CPU spent);
//   - presence: A asks B who of a list of users is online (serverSideEmit with an ack),
//     and, for comparison, fetchSockets on the user's room, one at a time;
//   - a plain Redis round trip (EXISTS), the floor for a Redis-kept presence count.
// Run: REDIS_URL=redis://127.0.0.1:6379 node --import tsx bench/redis-adapters.ts
// The streams adapter is measured when @socket.io/redis-streams-adapter is installed.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { createAdapter, createShardedAdapter } from '@socket.io/redis-adapter';
import { Redis } from 'ioredis';
import { Server } from 'socket.io';
import { io as connect } from 'socket.io-client';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const SEQUENTIAL = Number(process.env.ROUNDS ?? 2000);
const BURST = Number(process.env.BURST ?? 20_000);

type AdapterFactory = (clients: Redis[], prefix: string) => Promise<unknown>;

const adapters: Record<string, AdapterFactory> = {
  classic: async (clients, prefix) => {
    const [pub, sub] = [new Redis(REDIS_URL), new Redis(REDIS_URL)];
    clients.push(pub, sub);
    return createAdapter(pub, sub, { key: prefix, publishOnSpecificResponseChannel: true });
  },
  'sharded (dynamic)': async (clients, prefix) => {
    const [pub, sub] = [new Redis(REDIS_URL), new Redis(REDIS_URL)];
    clients.push(pub, sub);
    // Subscribing before the client's ready check (INFO) has answered breaks that check.
    await Promise.all([pub.ping(), sub.ping()]);
    return createShardedAdapter(pub, sub, { channelPrefix: prefix, subscriptionMode: 'dynamic' });
  },
  streams: async (clients, prefix) => {
    const name = '@socket.io/redis-streams-adapter';
    const streams = (await import(name).catch(() => null)) as { createAdapter: (client: Redis, options: object) => unknown } | null;
    if (!streams) return null;
    const client = new Redis(REDIS_URL);
    clients.push(client);
    return streams.createAdapter(client, { streamName: prefix, channelPrefix: prefix });
  },
};

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

function summary(samples: number[]): string {
  const sorted = [...samples].sort((a, b) => a - b);
  return `p50 ${percentile(sorted, 50).toFixed(3)} ms, p99 ${percentile(sorted, 99).toFixed(3)} ms`;
}

async function startNode(adapter: unknown) {
  const server = http.createServer();
  const io = new Server(server, { adapter: adapter as never });
  io.on('connection', (socket) => void socket.join('user:1'));
  // Each node answers from what it holds locally.
  io.on('whoIsOnline' as never, ((ids: string[], ack: (online: string[]) => void) => {
    ack(ids.filter((id) => (io.sockets.adapter.rooms.get(`user:${id}`)?.size ?? 0) > 0));
  }) as never);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return { io, server, port: (server.address() as AddressInfo).port };
}

async function measure(kind: string, factory: AdapterFactory) {
  const clients: Redis[] = [];
  const prefix = `bench-adapter-${process.pid}-${kind.replace(/\W/g, '')}`;
  const adapterA = await factory(clients, prefix);
  if (!adapterA) return console.log(`${kind}: not installed, skipped`);
  const a = await startNode(adapterA);
  const b = await startNode(await factory(clients, prefix));
  const client = connect(`http://127.0.0.1:${b.port}`, { transports: ['websocket'], forceNew: true });
  await new Promise<void>((resolve) => client.once('connect', () => resolve()));

  // The cluster adapters discover their peers by heartbeat: wait until A hears B.
  const ask = () => a.io.serverSideEmitWithAck('whoIsOnline' as never, ['1', '2', '3'] as never) as Promise<string[][]>;
  while ((await ask().catch(() => [])).flat().length === 0) await new Promise((resolve) => setTimeout(resolve, 50));

  const latencies: number[] = [];
  for (let i = 0; i < SEQUENTIAL; i++) {
    const started = performance.now();
    const arrived = new Promise<void>((resolve) => client.once('m', () => resolve()));
    a.io.to('user:1').emit('m', i);
    await arrived;
    latencies.push(performance.now() - started);
  }

  let received = 0;
  const allArrived = new Promise<void>((resolve) =>
    client.on('b', () => {
      if (++received === BURST) resolve();
    }),
  );
  const cpuBefore = process.cpuUsage();
  const burstStarted = performance.now();
  for (let i = 0; i < BURST; i++) {
    a.io.to('user:1').emit('b', { i, content: 'a message of ordinary length, some forty bytes' });
    if (i % 500 === 499) await new Promise((resolve) => setImmediate(resolve));
  }
  // A lossy adapter never delivers them all: give up after a while and say how many came.
  await Promise.race([allArrived, new Promise((resolve) => setTimeout(resolve, 30_000))]);
  const burstMs = performance.now() - burstStarted;
  const cpu = process.cpuUsage(cpuBefore);

  const who: number[] = [];
  const fetch: number[] = [];
  for (let i = 0; i < SEQUENTIAL; i++) {
    let started = performance.now();
    await ask();
    who.push(performance.now() - started);
    started = performance.now();
    await a.io.in('user:1').fetchSockets();
    fetch.push(performance.now() - started);
  }

  console.log(`${kind}:`);
  console.log(`  delivery A→B→client, one at a time: ${summary(latencies)}`);
  console.log(
    `  burst of ${BURST}: ${received} arrived, ${Math.round(received / (burstMs / 1000))} messages/s, ` +
      `${((cpu.user + cpu.system) / received).toFixed(1)} µs CPU per message (both servers and the client)`,
  );
  console.log(`  presence, serverSideEmit with ack: ${summary(who)}`);
  console.log(`  presence, fetchSockets on the room: ${summary(fetch)}`);

  client.disconnect();
  await Promise.all([a.io.close(), b.io.close()]);
  await clients[0]!.del(prefix); // the streams adapter's stream
  await Promise.all(clients.map((c) => c.quit()));
}

const kinds = process.argv.slice(2);
for (const [kind, factory] of Object.entries(adapters)) {
  if (kinds.length === 0 || kinds.includes(kind)) await measure(kind, factory);
}

const redis = new Redis(REDIS_URL);
const rtt: number[] = [];
for (let i = 0; i < SEQUENTIAL; i++) {
  const started = performance.now();
  await redis.exists(`bench-presence-${i % 10}`);
  rtt.push(performance.now() - started);
}
console.log(`plain Redis round trip (EXISTS): ${summary(rtt)}`);
await redis.quit();
