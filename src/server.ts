// The process: config, database, HTTP server, Socket.IO, listen, graceful shutdown.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { createApp } from './app.ts';
import { ConfigError, loadConfig, type Config } from './config.ts';
import { openDatabase, type Database } from './db/database.ts';
import { NoEngineError } from './db/embedded.ts';
import { trackConnections } from './http/drain.ts';
import { createLimiters } from './http/rate-limits.ts';
import { createSessionMiddleware, resolveSessionSecret } from './http/session.ts';
import { createLogger, type Logger } from './log.ts';
import { createMessagingService, type MessagingService } from './messaging/service.ts';
import { messagingSocketFeature } from './messaging/socket-handlers.ts';
import { createRealtime, type IoServer, type Realtime } from './realtime/io.ts';

export interface RunningServer {
  url: string;
  port: number;
  http: http.Server;
  io: IoServer;
  realtime: Realtime;
  messaging: MessagingService;
  db: Database;
  /** Stops accepting, finishes in-flight requests, closes sockets and the database. */
  close(): Promise<void>;
}

export async function startServer(config: Config, log: Logger): Promise<RunningServer> {
  if (!config.limits.rateLimitsEnabled) {
    log.warn('RATE_LIMITS=off: rate limiting is DISABLED. Use this for benchmarks only, never in production.');
  }
  const db = await openDatabase(config, log);
  const secret = await resolveSessionSecret(config);
  const session = createSessionMiddleware(config, db.connection, secret);
  const limiters = createLimiters(config);
  // The service delivers through Socket.IO, which needs the HTTP server, which needs the
  // app, which needs the service: the realtime layer is bound once it exists, before listen.
  const bound: { realtime?: Realtime } = {};
  const messaging = createMessagingService({
    config,
    limiters,
    deliveries: {
      notify: (userIds, event, payload, options) => bound.realtime?.notify(userIds, event, payload, options),
      isOnline: (userId) => bound.realtime?.isOnline(userId) ?? false,
    },
  });

  const app = createApp({ config, log, session: session.middleware, isDatabaseConnected: db.isConnected, limiters, messaging });
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
  const realtime = createRealtime(server, { config, log, session: session.middleware, features: [messagingSocketFeature(messaging, log)] });
  bound.realtime = realtime;
  const { io } = realtime;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  log.info({ port }, `Parley listening on http://localhost:${port}`);

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      const stopDraining = drain.start(config.shutdownTimeoutMs);
      await io.close().catch(() => undefined);
      await stopped;
      stopDraining();
      await session.store.close().catch(() => undefined);
      await db.close();
    })());

  return { url, port, http: server, io, realtime, messaging, db, close };
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
    if (err instanceof NoEngineError) {
      console.error(err.message);
      process.exit(3);
    }
    log.fatal({ err }, 'could not start');
    process.exit(1);
  }

  const shutdown = (signal: string) => {
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
    log.fatal({ err }, 'uncaught exception');
    // Stop the embedded database with us; its exit hook runs on process.exit.
    process.exit(1);
  });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await main();
}
