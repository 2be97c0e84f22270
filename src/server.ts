// The process: config, database, HTTP server, Socket.IO, listen, graceful shutdown.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { createApp } from './app.ts';
import { ConfigError, loadConfig, type Config } from './config.ts';
import { openDatabase, type Database } from './db/database.ts';
import { NoEngineError } from './db/embedded.ts';
import { connectRedis, RedisUnavailableError, type RedisLink } from './db/redis.ts';
import { createRedisLock, type KeyLock } from './db/redis-lock.ts';
import { createSerialWrites } from './db/serial-writes.ts';
import { backfillUsernameSkeletons } from './accounts/skeleton-backfill.ts';
import { createUserReader } from './accounts/user-cache.ts';
import { onUserWritten, userWrittenElsewhere } from './accounts/user-writes.ts';
import { trackConnections } from './http/drain.ts';
import { databaseHealth } from './http/health.ts';
import { createLimiters } from './http/rate-limits.ts';
import { typingSocketFeature } from './chat/typing.ts';
import { createSessionMiddleware, resolveSessionSecret } from './http/session.ts';
import { createLogger, type Logger } from './log.ts';
import { createMessagingService, type MessagingService } from './messaging/service.ts';
import { messagingSocketFeature } from './messaging/socket-handlers.ts';
import { createMessagingStorage, type MessagingStorage } from './messaging/storage.ts';
import { createMail, type Mail } from './mail/index.ts';
import { createLastSeen, type LastSeen } from './mail/last-seen.ts';
import { createUnreadMail, type UnreadMail } from './mail/unread.ts';
import { sweepTokensEvery } from './settings/tokens.ts';
import { migrateForum } from './forum/migrate.ts';
import { createRealtime, type IoServer, type Realtime } from './realtime/io.ts';

export interface RunningServer {
  url: string;
  port: number;
  http: http.Server;
  io: IoServer;
  realtime: Realtime;
  messaging: MessagingService;
  /** The storage behind messaging (tests drive its repair and its queue). */
  storage: MessagingStorage;
  db: Database;
  mail: Mail;
  unreadMail: UnreadMail;
  /** Set with REDIS_URL. */
  redis: RedisLink | undefined;
  /** Set when writes to one document are serialised across processes. */
  writeLock: KeyLock | undefined;
  /** Stops accepting, finishes in-flight requests, closes sockets and the database. */
  close(): Promise<void>;
}

export async function startServer(config: Config, log: Logger): Promise<RunningServer> {
  if (!config.limits.rateLimitsEnabled) {
    log.warn('RATE_LIMITS=off: rate limiting is DISABLED. Use this for benchmarks only, never in production.');
  }
  const db = await openDatabase(config, log);
  let redis: RedisLink | undefined;
  try {
    // Data written before boards: listed in the default board (once; see forum/migrate.ts).
    await migrateForum(log);
    await backfillUsernameSkeletons();
    redis = config.redisUrl ? await connectRedis(config, log) : undefined;
  } catch (err) {
    await db.close();
    throw err;
  }
  const writeLock = redis && crossProcessLock(config, db, redis, log);
  const secret = await resolveSessionSecret(config);
  const session = createSessionMiddleware(config, db.connection, secret, (err) =>
    log.warn({ err }, 'expired sessions could not be swept; trying again at the next sweep'),
  );
  const limiters = createLimiters(config, redis);
  const readUser = createUserReader(config.readCacheMs);
  const mail = createMail({ config, log, secret, isDatabaseConnected: db.isConnected });
  // The service delivers through Socket.IO, which needs the HTTP server, which needs the
  // app, which needs the service: the realtime layer is bound once it exists, before listen.
  const bound: { realtime?: Realtime; unreadMail?: UnreadMail; lastSeen?: LastSeen } = {};
  const { limits } = config;
  const storage = createMessagingStorage({
    log,
    serial: createSerialWrites({ lock: writeLock }),
    redis: redis && { client: redis.client, key: redis.key },
    badgeCacheMs: config.readCacheMs,
    maxBatch: limits.messageBatchMax,
    maxQueue: limits.messageQueueMax,
    maxWaitMs: limits.messageQueueWaitMs,
    timeoutMs: config.shutdownTimeoutMs,
  });
  const messaging = createMessagingService({
    config,
    readUser,
    limiters,
    store: storage.store,
    commit: storage.commit,
    isDatabaseConnected: db.isConnected,
    deliveries: {
      notify: (userIds, event, payload, options) => {
        bound.realtime?.notify(userIds, event, payload, options);
        // The unread-message mail's one signal: a message reached these members (mail/unread.ts).
        if (event === 'sendback' && !options?.except) bound.unreadMail?.delivered(userIds, (payload as { message: { from: string; createdAt: string } }).message);
      },
      whoIsOnline: async (userIds) => (bound.realtime ? bound.realtime.whoIsOnline(userIds) : new Set()),
    },
  });

  try {
    await storage.prepare();
  } catch (err) {
    await redis?.close();
    await db.close();
    throw err;
  }

  const app = createApp({
    config,
    log,
    session: session.middleware,
    secret,
    readUser,
    isDatabaseConnected: db.isConnected,
    isDatabaseHealthy: databaseHealth({ isConnected: db.isConnected, ping: () => db.connection.db!.command({ ping: 1 }), cacheMs: config.healthCacheMs }),
    limiters,
    messaging,
    writeLock,
    closeSessionSockets: (sessionId) => bound.realtime?.endSession(sessionId),
    endUserSessions: (userId, keepSessionId) => bound.realtime?.endUserSessions(userId, keepSessionId),
    mail,
    closeUserSockets: (userId) => bound.realtime?.endUser(userId),
    hidePresence: (watcherId, userId) => bound.realtime?.stopWatching(watcherId, userId),
  });
  const { headersTimeoutMs, requestTimeoutMs, keepAliveTimeoutMs } = config.limits;
  // Slow clients cannot hold a connection open forever. Node enforces the first two only
  // when it checks its connections (every 30 s by default): check often enough for the
  // timeouts to mean what they say.
  const server = http.createServer(
    {
      headersTimeout: headersTimeoutMs,
      requestTimeout: requestTimeoutMs,
      keepAliveTimeout: keepAliveTimeoutMs,
      connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(headersTimeoutMs / 4))),
    },
    app,
  );
  const drain = trackConnections(server);
  const realtime = createRealtime(server, { config, log, session: session.middleware, redis, features: [messagingSocketFeature(messaging, log, limiters), typingSocketFeature({ readUser, log }), (socket) => bound.lastSeen?.feature(socket)] });
  bound.realtime = realtime;
  bound.lastSeen = createLastSeen(realtime.io, { forgetAfterMs: 2 * (config.mail.unreadDelayMs + config.mail.unreadIntervalMs), withPeers: Boolean(redis) });
  const unreadMail = createUnreadMail({
    config,
    log,
    mail,
    messaging,
    lastSeen: bound.lastSeen.lastSeen,
    isOnlineHere: (userId) => realtime.presence.isOnline(userId),
    isDatabaseConnected: db.isConnected,
  });
  bound.unreadMail = unreadMail;
  const { io } = realtime;
  // Kept copies of users (user-cache.ts) go stale when another process writes one: tell them.
  const stopRelayingUserWrites = onUserWritten((userId, where) => {
    // A lone process has no one to tell (its adapter would log that it cannot).
    if (where === 'here' && redis) io.serverSideEmit('userWritten', userId);
  });
  io.on('userWritten', (userId) => userWrittenElsewhere(String(userId)));
  // Commands on one connection run in order: once this answers, the adapter's
  // subscriptions are live and the other processes count this one.
  await redis?.sub.ping();

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  log.info({ port }, `Parley listening on http://localhost:${port}`);
  mail.queue.start();
  unreadMail.start();
  const stopSweepingTokens = sweepTokensEvery(60 * 60 * 1000, (err) => log.warn({ err }, 'expired mail links could not be swept'));
  log.info({ to: mail.transport.target }, 'mail: sending through the queue');

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      const stopDraining = drain.start(config.shutdownTimeoutMs);
      // Sends already accepted are stored and acknowledged before their sockets close;
      // any that arrive from now on are refused with a clear answer.
      await messaging.drain(config.shutdownTimeoutMs);
      stopSweepingTokens();
      await unreadMail.stop();
      await mail.queue.stop(config.shutdownTimeoutMs / 2);
      mail.transport.close();
      // The acknowledgements follow their stores by a few promise hops: let them go out.
      await new Promise((resolve) => setImmediate(resolve));
      storage.stop();
      stopRelayingUserWrites();
      await io.close().catch(() => undefined);
      await stopped;
      stopDraining();
      await session.store.close().catch(() => undefined);
      // After Socket.IO (its adapter unsubscribes) and the last request (rate limits, locks).
      await redis?.close();
      await db.close();
    })());

  return { url, port, http: server, io, realtime, messaging, storage, db, mail, unreadMail, redis, writeLock, close };
}

/**
 * A Redis lock per document when several processes may write one: FerretDB's updates
 * are read-then-write with nothing between (see db/serial-writes.ts), MongoDB's are atomic.
 */
function crossProcessLock(config: Config, db: Database, redis: RedisLink, log: Logger): KeyLock | undefined {
  const wanted = config.crossProcessLocks === 'on' || (config.crossProcessLocks === 'auto' && db.isFerretDB);
  if (wanted) log.info('writes to one document are serialised across processes by a Redis lock');
  else if (db.isFerretDB) log.warn('CROSS_PROCESS_LOCKS=off on FerretDB: processes sharing this database can lose concurrent updates');
  return wanted ? createRedisLock(redis.client, { key: redis.key }) : undefined;
}

async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(2);
    }
    throw err;
  }
  const log = createLogger(config);
  let running: RunningServer;
  try {
    running = await startServer(config, log);
  } catch (err) {
    if (err instanceof NoEngineError || err instanceof RedisUnavailableError) {
      console.error(err.message);
      process.exit(3);
    }
    log.fatal({ err }, 'could not start');
    process.exit(1);
  }

  let shuttingDown = false;
  const shutdown = (signal: string) => {
    shuttingDown = true;
    log.info(`${signal} received: shutting down`);
    const force = setTimeout(() => process.exit(1), config.shutdownTimeoutMs + 5000);
    force.unref();
    running.close().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error({ err }, 'error during shutdown');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
  process.on('uncaughtException', (err) => {
    // A Redis command cut short by our own shutdown closing its connection (one a library
    // sent without waiting for its answer) is no reason to fail the shutdown.
    if (shuttingDown && err instanceof Error && err.message === 'Connection is closed.') {
      log.warn({ err }, 'a Redis command was cut short by the shutdown');
      return;
    }
    log.fatal({ err }, 'uncaught exception');
    // Stop the embedded database with us; its exit hook runs on process.exit.
    process.exit(1);
  });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await main();
}
