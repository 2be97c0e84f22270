// The app as production runs it: `node --import tsx src/server.ts` in a child process,
// on a free port (PORT=0: the port is read from its "listening" log line), stopped with
// SIGTERM. For tests of several processes sharing a database and Redis.
import { spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import mongoose from 'mongoose';
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import { connectDatabase } from '../../src/db/database.ts';
import { testDatabaseUri } from './database.ts';
import { closeAllSockets } from './sockets.ts';

export const TEST_REDIS_URL = 'redis://127.0.0.1:6379';

export interface AppProcess {
  url: string;
  /** Sends SIGTERM; resolves with the exit code, or the signal that ended the process. */
  stop(): Promise<number | string | null>;
  /** Kills the process (SIGKILL), as a crash would: no shutdown, nothing flushed. Resolves once it is gone. */
  kill(): Promise<number | string | null>;
  /** What the process printed (its log). */
  output(): string;
}

/** A Redis key prefix of its own, so runs in parallel never share counters or channels. */
export function uniqueRedisPrefix(label: string): string {
  return `t-${label}-${crypto.randomBytes(4).toString('hex')}`;
}

export async function startAppProcess(env: Record<string, string>): Promise<AppProcess> {
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'parley-proc-'));
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    cwd: path.resolve(import.meta.dirname, '../..'),
    env: { PATH: process.env.PATH, HOME: process.env.HOME, NODE_ENV: 'test', PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', DATA_DIR: dataDir, MESSAGE_REQUESTS: 'off', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | string | null>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal)));
  let output = '';
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const port = await new Promise<number>((resolve, reject) => {
    let pending = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      pending += chunk.toString();
      const lines = pending.split('\n');
      pending = lines.pop()!;
      for (const line of lines) {
        const port = listeningPort(line);
        if (port !== undefined) resolve(port);
      }
    });
    void exited.then((code) => reject(new Error(`app process exited (${code}) before listening:\n${output}`)));
  });
  return {
    url: `http://127.0.0.1:${port}`,
    stop: async () => {
      stopChild(child);
      const code = await exited;
      await fs.rm(dataDir, { recursive: true, force: true });
      return code;
    },
    kill: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      const code = await exited;
      await fs.rm(dataDir, { recursive: true, force: true });
      return code;
    },
    output: () => output,
  };
}

function listeningPort(line: string): number | undefined {
  try {
    const entry = JSON.parse(line) as { msg?: string; port?: number };
    return entry.msg?.startsWith('Parley listening') ? entry.port : undefined;
  } catch {
    return undefined;
  }
}

function stopChild(child: ChildProcess): void {
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
}

/** Deletes what a run left under its prefix (rate-limit counters, locks). */
export async function deleteRedisKeys(prefix: string): Promise<void> {
  const redis = new Redis(TEST_REDIS_URL);
  try {
    const keys: string[] = [];
    let cursor = '0';
    do {
      const [next, found] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      keys.push(...found);
    } while (cursor !== '0');
    if (keys.length > 0) await redis.del(...keys);
  } finally {
    redis.disconnect();
  }
}

/**
 * Two app processes sharing one database and one Redis (under a prefix of their own), as
 * `docker compose --profile scaled` runs them, for a test file: started before its tests,
 * their sockets closed after each, stopped after all, which must be a clean exit (shutdown
 * closed the database and Redis rather than being cut short).
 *
 * `databaseUri`: the database of the file's in-process server (useTestServer), so that both
 * share it; the in-process server then owns the Mongoose connection. Without it, a database
 * of their own, connected here for the test's reads.
 */
export function useTwoProcesses(label: string, env: Record<string, string>, databaseUri?: () => string): { a: AppProcess; b: AppProcess } {
  const redisPrefix = uniqueRedisPrefix(label);
  const both = {} as { a: AppProcess; b: AppProcess };
  beforeAll(async () => {
    const uri = databaseUri ? databaseUri() : testDatabaseUri(label);
    if (!databaseUri) await connectDatabase(uri);
    const shared = { MONGODB_URI: uri, REDIS_URL: TEST_REDIS_URL, REDIS_PREFIX: redisPrefix, ...env };
    [both.a, both.b] = await Promise.all([startAppProcess(shared), startAppProcess(shared)]);
  });
  afterEach(() => closeAllSockets());
  afterAll(async () => {
    closeAllSockets();
    const codes = await Promise.all([both.a?.stop(), both.b?.stop()]);
    if (!databaseUri) await mongoose.disconnect();
    await deleteRedisKeys(redisPrefix);
    expect(codes, `${both.a?.output()}\n${both.b?.output()}`).toEqual([0, 0]);
  });
  return both;
}
