// The Redis that joins app processes (REDIS_URL). Without it nothing here runs: one
// process keeps presence, rate limits and write queues in memory and needs no Redis.
//
// Three connections, because a connection that has subscribed can send nothing else:
// - `client`, for commands whose answers the app awaits (rate-limit counters, write
//   locks). During an outage they fail after one retry instead of queueing, and a Redis
//   that hangs fails them after COMMAND_TIMEOUT_MS, so a send is answered rather than
//   left hanging.
// - `pub` and `sub`, the Socket.IO adapter's. The adapter publishes without handling the
//   answer, so `pub` queues during an outage (a failed publish would be an unhandled
//   rejection) and delivers once Redis is back; `sub` resubscribes by itself.
import { Redis, type RedisOptions } from 'ioredis';
import type { Config } from '../config.ts';
import type { Logger } from '../log.ts';

export interface RedisLink {
  client: Redis;
  pub: Redis;
  sub: Redis;
  /** A key or channel name under this deployment's prefix. */
  key(name: string): string;
  /** Quits all three connections (after Socket.IO has closed its adapter). */
  close(): Promise<void>;
}

const CONNECT_TIMEOUT_MS = 5000;
/** Redis answers in well under a millisecond; this is for one that has stopped answering. */
const COMMAND_TIMEOUT_MS = 2000;

export class RedisUnavailableError extends Error {
  override name = 'RedisUnavailableError';
}

/**
 * Logs the first error of an outage and the recovery, not every reconnection attempt.
 * Errors before the first connection are the caller's to report.
 */
function watch(redis: Redis, role: string, log: Logger): void {
  let state: 'connecting' | 'up' | 'down' = 'connecting';
  redis.on('error', (err: Error) => {
    if (state === 'up') log.error({ err, role }, 'redis: connection lost; retrying');
    if (state !== 'connecting') state = 'down';
  });
  redis.on('ready', () => {
    if (state === 'down') log.info({ role }, 'redis: connected again');
    state = 'up';
  });
}

function redactUrl(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//***@');
}

/** Connects, or throws RedisUnavailableError naming the URL when Redis does not answer. */
export async function connectRedis(config: Pick<Config, 'redisUrl' | 'redisPrefix'>, log: Logger): Promise<RedisLink> {
  const url = config.redisUrl;
  if (!url) throw new Error('connectRedis needs REDIS_URL');
  const base: RedisOptions = { lazyConnect: true, connectTimeout: CONNECT_TIMEOUT_MS };
  const client = new Redis(url, { ...base, maxRetriesPerRequest: 1, commandTimeout: COMMAND_TIMEOUT_MS });
  const pub = new Redis(url, { ...base, maxRetriesPerRequest: null });
  const sub = new Redis(url, { ...base, maxRetriesPerRequest: null });
  const all = [client, pub, sub];
  watch(client, 'commands', log);
  watch(pub, 'publish', log);
  watch(sub, 'subscribe', log);
  try {
    // The adapter subscribes at once: its connection must have passed ioredis's ready check first.
    await Promise.all(all.map((redis) => redis.connect()));
  } catch (err) {
    for (const redis of all) redis.disconnect();
    throw new RedisUnavailableError(`Redis at ${redactUrl(url)} does not answer (${(err as Error).message}). Start it, or unset REDIS_URL to run one process without it.`);
  }
  log.info(`redis: ${redactUrl(url)}, keys under "${config.redisPrefix}:"`);
  return {
    client,
    pub,
    sub,
    key: (name) => `${config.redisPrefix}:${name}`,
    close: async () => {
      // Socket.IO's adapter unsubscribes and publishes without waiting for the answers; a
      // connection quit before they came back fails them as unhandled rejections. Replies
      // come in order, so once a PING is answered on each connection, everything sent
      // before it has been answered too.
      await Promise.all(all.map((redis) => redis.ping().catch(() => undefined)));
      await Promise.all(all.map((redis) => redis.quit().catch(() => redis.disconnect())));
    },
  };
}
