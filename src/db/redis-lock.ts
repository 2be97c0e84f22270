// One writer per document across processes, for FerretDB (see serial-writes.ts): a
// short Redis lock per key. `SET key token NX PX ttl` takes it; a waiter retries with a
// growing, jittered pause; a Lua compare-and-delete releases it only if the token is
// still ours, so a holder whose lock expired cannot free someone else's.
//
// Written here rather than taken from a library (redlock, redis-semaphore): the need is
// one key on one Redis held for one database write, a few dozen lines; Redlock's
// multi-server quorum buys nothing with one Redis, and redis-semaphore adds refresh
// timers per lock whose default, on a lock found lost, is to throw from the timer (an
// uncaught exception that would end the process) and polls at a fixed 10 ms.
// The lock is taken inside the process's own queue for the key, so a process never
// competes with itself: at most one of its writes per key waits on Redis.
import crypto from 'node:crypto';
import type { Redis } from 'ioredis';

export interface KeyLock {
  /** Runs `work` while holding the lock named `key` across every process. */
  hold<T>(key: string, work: () => Promise<T>): Promise<T>;
}

export interface RedisLockOptions {
  /** Turns a lock name into its Redis key (the deployment's prefix). */
  key: (name: string) => string;
  /**
   * How long a lock outlives a holder that died: far above one write (milliseconds),
   * above the database driver's 5 s server-selection timeout, so a slow write keeps it.
   */
  ttlMs?: number;
  /** How long a writer waits for the lock before its write fails. */
  waitMs?: number;
}

/** The lock could not be had: held elsewhere for too long, or Redis not answering. */
export class LockUnavailableError extends Error {
  override name = 'LockUnavailableError';
}

const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0`;
const FIRST_PAUSE_MS = 1;
const LONGEST_PAUSE_MS = 20;

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function createRedisLock(redis: Redis, options: RedisLockOptions): KeyLock {
  const ttlMs = options.ttlMs ?? 10_000;
  const waitMs = options.waitMs ?? ttlMs;
  // Unique per process and per hold, cheaply: a random process part and a counter.
  const processToken = crypto.randomBytes(6).toString('hex');
  let holds = 0;
  redis.defineCommand('parleyReleaseLock', { numberOfKeys: 1, lua: RELEASE });
  const release = (redis as Redis & { parleyReleaseLock(key: string, token: string): Promise<number> }).parleyReleaseLock.bind(redis);

  async function tryAcquire(key: string, token: string): Promise<boolean> {
    try {
      return (await redis.set(key, token, 'PX', ttlMs, 'NX')) === 'OK';
    } catch (err) {
      throw new LockUnavailableError(`lock ${key}: Redis did not answer (${(err as Error).message})`, { cause: err });
    }
  }

  async function acquire(key: string, token: string): Promise<void> {
    const deadline = Date.now() + waitMs;
    let pauseMs = FIRST_PAUSE_MS;
    while (!(await tryAcquire(key, token))) {
      if (Date.now() >= deadline) throw new LockUnavailableError(`lock ${key} still held after ${waitMs} ms`);
      // Jitter keeps two waiters from retrying in step.
      await pause(pauseMs * (0.5 + Math.random()));
      pauseMs = Math.min(pauseMs * 2, LONGEST_PAUSE_MS);
    }
  }

  return {
    async hold(name, work) {
      const key = options.key(`lock:${name}`);
      const token = `${processToken}:${++holds}`;
      await acquire(key, token);
      try {
        return await work();
      } finally {
        // Not awaited: the release is queued on this connection ahead of any later SET
        // from this process, and another process only needs it to land eventually. If it
        // fails, the lock expires after ttlMs.
        release(key, token).catch(() => undefined);
      }
    },
  };
}
