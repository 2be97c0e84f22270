// The pieces of scale-out that one process can show: the cross-process write lock (two
// lock instances on their own connections stand for two processes), rate limits while
// Redis is away, and the server's Redis connections, opened with REDIS_URL only and
// closed on shutdown. scale-out.test.ts runs two real processes.
import { Redis } from 'ioredis';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { isDatabaseUnavailable } from '../../src/db/errors.ts';
import { loadConfig } from '../../src/config.ts';
import { freePort } from '../../src/db/embedded.ts';
import { connectRedis, RedisUnavailableError } from '../../src/db/redis.ts';
import { createRedisLock, LockUnavailableError, type KeyLock } from '../../src/db/redis-lock.ts';
import { createSerialWrites } from '../../src/db/serial-writes.ts';
import { createLimiters } from '../../src/http/rate-limits.ts';
import { createLogger } from '../../src/log.ts';
import { deleteRedisKeys, TEST_REDIS_URL, uniqueRedisPrefix } from '../support/app-process.ts';
import { startTestServer } from '../support/server.ts';

const prefix = uniqueRedisPrefix('lock');
const key = (name: string) => `${prefix}:${name}`;
const connections: Redis[] = [];

function connection(): Redis {
  const redis = new Redis(TEST_REDIS_URL);
  connections.push(redis);
  return redis;
}

function lockOnOwnConnection(options: { ttlMs?: number; waitMs?: number } = {}, redis = connection()): KeyLock {
  return createRedisLock(redis, { key, ...options });
}

afterAll(async () => {
  await deleteRedisKeys(prefix);
  for (const redis of connections) redis.disconnect();
});

const tick = () => new Promise((resolve) => setTimeout(resolve, 1));

/** Two "processes" each writing `count` times to one key, noting when each write starts and ends. */
async function writeFromTwo(locks: [KeyLock | undefined, KeyLock | undefined], count: number): Promise<string[]> {
  const log: string[] = [];
  const queues = locks.map((lock) => createSerialWrites({ lock }));
  await Promise.all(
    queues.flatMap((queue, p) =>
      Array.from({ length: count }, (_, i) =>
        queue.run('conv:shared', async () => {
          log.push(`start ${p}.${i}`);
          await tick();
          await tick();
          log.push(`end ${p}.${i}`);
        }),
      ),
    ),
  );
  return log;
}

/** True when every write ended before the next one started. */
function oneAtATime(log: string[]): boolean {
  return log.every((entry, i) => (i % 2 === 0 ? entry.startsWith('start') : entry === log[i - 1]!.replace('start', 'end')));
}

describe('writes serialised across processes', () => {
  it('overlap between two processes without the lock', async () => {
    expect(oneAtATime(await writeFromTwo([undefined, undefined], 5))).toBe(false);
  });

  it('run one at a time across two processes with the Redis lock', async () => {
    const log = await writeFromTwo([lockOnOwnConnection(), lockOnOwnConnection()], 10);
    expect(log).toHaveLength(40);
    expect(oneAtATime(log)).toBe(true);
  });

  it('leave another holder\u2019s lock alone when a slow holder\u2019s own has expired', async () => {
    const slowConnection = connection();
    const slow = lockOnOwnConnection({ ttlMs: 30 }, slowConnection);
    const next = lockOnOwnConnection();
    let nextHolds = false;
    let finishNext!: () => void;
    const nextDone = new Promise<void>((resolve) => (finishNext = resolve));
    let nextWrite: Promise<void> | undefined;
    await slow.hold('page:x', async () => {
      // Only once the slow holder's lock has expired can the next one take it.
      nextWrite = next.hold('page:x', async () => {
        nextHolds = true;
        await nextDone;
      });
      while (!nextHolds) await tick();
    });
    // Commands on one connection run in order: after this answer the slow holder's
    // release has run, and must not have freed the next holder's lock.
    await slowConnection.ping();
    expect(await slowConnection.exists(key('lock:page:x'))).toBe(1);
    finishNext();
    await nextWrite;
  });

  it('fail a write that cannot get the lock in time, with a clear error', async () => {
    const holder = lockOnOwnConnection();
    const waiter = lockOnOwnConnection({ waitMs: 50 });
    let release!: () => void;
    let holding!: () => void;
    const acquired = new Promise<void>((resolve) => (holding = resolve));
    const held = holder.hold('inbox:y', () => {
      holding();
      return new Promise<void>((resolve) => (release = resolve));
    });
    await acquired;
    await expect(waiter.hold('inbox:y', async () => 'never')).rejects.toThrow(LockUnavailableError);
    release();
    await held;
    expect(await waiter.hold('inbox:y', async () => 'now')).toBe('now');
  });

  it('fail a write as "unavailable" while Redis does not answer, rather than write without the lock', async () => {
    const away = new Redis(`redis://127.0.0.1:${await freePort()}`, { maxRetriesPerRequest: 1 });
    away.on('error', () => undefined);
    connections.push(away);
    let wrote = false;
    const failure = lockOnOwnConnection({}, away).hold('conv:z', async () => {
      wrote = true;
    });
    await expect(failure).rejects.toThrow(LockUnavailableError);
    expect(isDatabaseUnavailable(await failure.catch((err: unknown) => err))).toBe(true);
    expect(wrote).toBe(false);
  });
});

describe('rate limits with Redis', () => {
  it('still hold, per process, while Redis does not answer, instead of failing every request', async () => {
    const away = new Redis(`redis://127.0.0.1:${await freePort()}`, { maxRetriesPerRequest: 1 });
    away.on('error', () => undefined);
    connections.push(away);
    const limiters = createLimiters(loadConfig({ MESSAGE_RATE: '2/1m' }), { client: away, key });
    expect(await limiters.message.consume('someone')).toEqual({ ok: true });
    expect(await limiters.message.consume('someone')).toEqual({ ok: true });
    expect(await limiters.message.consume('someone')).toMatchObject({ ok: false });
  });
});

describe('the server and Redis', () => {
  const log = createLogger({ logLevel: 'silent', env: 'test' });

  it('refuses to start against a Redis that does not answer, naming REDIS_URL', async () => {
    const url = `redis://127.0.0.1:${await freePort()}`;
    const failure = connectRedis({ redisUrl: url, redisPrefix: prefix }, log);
    await expect(failure).rejects.toThrow(RedisUnavailableError);
    await expect(failure).rejects.toThrow(/REDIS_URL/);
  });

  it('opens no Redis connection without REDIS_URL', async () => {
    const server = await startTestServer();
    expect(server.redis).toBeUndefined();
    expect(server.writeLock).toBeUndefined();
    await server.close();
  });

  it('with REDIS_URL, locks writes across processes on FerretDB only, and quits Redis on shutdown', async () => {
    const server = await startTestServer({ REDIS_URL: TEST_REDIS_URL, REDIS_PREFIX: prefix });
    const engine = inject('dbEngine');
    if (engine !== 'external') expect(server.db.isFerretDB).toBe(engine === 'ferretdb');
    expect(server.writeLock !== undefined).toBe(server.db.isFerretDB);
    const { client, pub, sub } = server.redis!;
    expect([client.status, pub.status, sub.status]).toEqual(['ready', 'ready', 'ready']);
    await server.close();
    expect([client.status, pub.status, sub.status]).toEqual(['end', 'end', 'end']);
  });

  it('takes the lock when asked to, whatever the database', async () => {
    const server = await startTestServer({ REDIS_URL: TEST_REDIS_URL, REDIS_PREFIX: prefix, CROSS_PROCESS_LOCKS: 'on' });
    expect(server.writeLock).toBeDefined();
    await server.close();
  });
});
