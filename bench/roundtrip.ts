// A private message's round trip on this machine: send → ack (stored) and
// send → sendback at the recipient, median and 99th percentile over a few hundred sends.
//
//   node --import tsx bench/roundtrip.ts [sends=400] [warmup=30]
//
// The app runs as its own process (as `npm start` runs it, embedded database included,
// rate limits off), so the measuring client does not share its event loop. One message
// is in flight at a time: this is latency, not capacity.
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { io, type Socket } from 'socket.io-client';
import type { ClientToServerEvents, SendAck, ServerToClientEvents } from '../src/realtime/events.ts';

type ClientSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

const sends = Number(process.argv[2] ?? 400);
const warmup = Number(process.argv[3] ?? 30);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

async function startApp(dataDir: string): Promise<{ url: string; engine: string; stop: () => Promise<void> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    cwd: root,
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', DATA_DIR: dataDir, RATE_LIMITS: 'off', LOG_LEVEL: 'info', NODE_ENV: 'production', MONGODB_URI: '' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let log = '';
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      log += chunk.toString();
      const match = /"port":(\d+)/.exec(log);
      if (match) resolve(`http://127.0.0.1:${match[1]}`);
    });
    child.once('exit', (code) => reject(new Error(`app exited with ${code} before listening:\n${log}`)));
  });
  return {
    url,
    engine: /database: embedded (\w+)/.exec(log)?.[1] ?? 'external',
    stop: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/** Registers through the real form and returns the session cookie and the user id. */
async function register(url: string, username: string): Promise<{ cookie: string; id: string }> {
  const form = await fetch(`${url}/register`);
  const jar = form.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
  const csrf = /name="_csrf" value="([^"]+)"/.exec(await form.text())?.[1] ?? '';
  const res = await fetch(`${url}/register`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: jar },
    body: new URLSearchParams({ username, password: 'benchmark password', _csrf: csrf }),
  });
  if (res.status !== 303) throw new Error(`could not register ${username}: ${res.status}`);
  const cookie = res.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
  const page = await (await fetch(`${url}/`, { headers: { cookie } })).text();
  const id = /data-current-user-id="([0-9a-f]{24})"/.exec(page)?.[1];
  if (!id) throw new Error('no user id on the home page');
  return { cookie, id };
}

function connect(url: string, cookie: string): Promise<ClientSocket> {
  const socket: ClientSocket = io(url, { extraHeaders: { cookie }, transports: ['websocket'], reconnection: false, forceNew: true });
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', reject);
  });
}

function percentile(sorted: number[], p: number): number {
  const index = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, index)]!;
}

function summary(name: string, samples: number[]) {
  const sorted = [...samples].sort((a, b) => a - b);
  const mean = samples.reduce((a, b) => a + b, 0) / samples.length;
  const f = (n: number) => n.toFixed(2).padStart(7);
  return `${name.padEnd(28)} ${f(percentile(sorted, 50))} ${f(percentile(sorted, 99))} ${f(mean)} ${f(sorted[0]!)} ${f(sorted.at(-1)!)}`;
}

const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'parley-bench-'));
const app = await startApp(dataDir);
try {
  const suffix = Date.now().toString(36).slice(-5);
  const [alice, bob] = await Promise.all([register(app.url, `alice${suffix}`), register(app.url, `bob${suffix}`)]);
  const [sender, recipient] = await Promise.all([connect(app.url, alice.cookie), connect(app.url, bob.cookie)]);

  const ackMs: number[] = [];
  const deliveryMs: number[] = [];
  for (let i = 0; i < warmup + sends; i++) {
    const content = `benchmark message ${i}`;
    const started = process.hrtime.bigint();
    const delivered = new Promise<bigint>((resolve) => {
      const listener = (payload: { content: string }) => {
        if (payload.content !== content) return;
        recipient.off('sendback', listener);
        resolve(process.hrtime.bigint());
      };
      recipient.on('sendback', listener);
    });
    const ack = (await sender.timeout(10_000).emitWithAck('privatemsg', { to_user: bob.id, content })) as SendAck;
    const acked = process.hrtime.bigint();
    if (!ack.ok) throw new Error(`send ${i} refused: ${ack.error}`);
    const arrived = await delivered;
    if (i < warmup) continue;
    ackMs.push(Number(acked - started) / 1e6);
    deliveryMs.push(Number(arrived - started) / 1e6);
  }
  sender.disconnect();
  recipient.disconnect();

  console.log(`\nParley message round trip, ${sends} sends after ${warmup} warm-up, one in flight at a time`);
  console.log(`machine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, node ${process.version}, database: ${app.engine}`);
  console.log(`${'ms'.padEnd(28)} ${'median'.padStart(7)} ${'p99'.padStart(7)} ${'mean'.padStart(7)} ${'min'.padStart(7)} ${'max'.padStart(7)}`);
  console.log(summary('send → ack (stored)', ackMs));
  console.log(summary('send → sendback at recipient', deliveryMs));
} finally {
  await app.stop();
  await fs.rm(dataDir, { recursive: true, force: true });
}
