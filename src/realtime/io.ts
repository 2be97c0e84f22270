// The Socket.IO server on the app's HTTP server. It shares express-session, so a socket
// is signed in exactly when its page is, and nothing in a payload can say otherwise.
//
// With Redis (scale-out) the processes join through @socket.io/redis-adapter: an emit to
// a user's room reaches their sockets on every process. Presence stays in each process's
// memory; a user not online here is looked up by asking the other processes (see
// whoIsOnline), so nothing has to be kept right in Redis when a process dies.
import type http from 'node:http';
import { createAdapter } from '@socket.io/redis-adapter';
import type { Request, RequestHandler } from 'express';
import { Server, type Socket } from 'socket.io';
import { findUserName } from '../accounts/user-model.ts';
import type { Config } from '../config.ts';
import type { RedisLink } from '../db/redis.ts';
import { localeFromRequest } from '../http/locals.ts';
import { securityHeaders } from '../http/security-headers.ts';
import { translator } from '../i18n/index.ts';
import type { Logger } from '../log.ts';
import { isSuspended } from '../moderation/roles.ts';
import type { ClientToServerEvents, Failure, InterServerEvents, Notify, ServerToClientEvents, SocketData } from './events.ts';
import { Presence } from './presence.ts';

export type IoServer = Server<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;
export type AppSocket = Socket<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;

/** Registers a feature's event handlers on a newly connected, signed-in socket. */
export type SocketFeature = (socket: AppSocket) => void;

export interface RealtimeDeps {
  config: Config;
  log: Logger;
  session: RequestHandler;
  features: SocketFeature[];
  /** Set: join the other processes through this Redis. */
  redis?: Pick<RedisLink, 'pub' | 'sub' | 'key'>;
}

export interface Realtime {
  io: IoServer;
  /** The sockets of this process. */
  presence: Presence;
  notify: Notify;
  /** Which of these users have a socket that counts as online, on any process. */
  whoIsOnline(userIds: string[]): Promise<Set<string>>;
  /** Closes every socket opened under this session, on every process (sign-out). */
  endSession(sessionId: string): void;
  /** Closes every socket of this member on every process, except those of `keepSessionId` (a password change). */
  endUserSessions(userId: string, keepSessionId?: string): void;
  /** Closes every socket of this user, on every process (a suspension). */
  endUser(userId: string): void;
  /**
   * `watcherId`'s sockets, on every process, stop hearing when `userId` comes or goes, and
   * are told `userId` is offline now (they were blocked by `userId`).
   */
  stopWatching(watcherId: string, userId: string): void;
}

const HEARTBEAT_INTERVAL_MS = 10_000;
const HEARTBEAT_TIMEOUT_MS = 10_000;
/**
 * How long a process waits for the others' answers to a question (who is online). A
 * process that died has left Redis with its connection and is not waited for; this is
 * for one that hangs.
 */
const PEER_TIMEOUT_MS = 2000;

/** Every socket of a user is in this room, so one emit reaches all their tabs. */
export const userRoom = (userId: string) => `user:${userId}`;

/** Sockets showing this user's online dot (watchpresence) hear here when it changes. */
export const presenceRoom = (userId: string) => `presence:${userId}`;


/**
 * Same-origin only, against cross-site WebSocket hijacking: a browser always sends
 * Origin on a WebSocket handshake and on cross-origin requests, and it must name the
 * host the request was sent to. No Origin at all is a non-browser client (or a
 * same-origin polling GET, where browsers may omit it): those carry no ambient
 * cookie risk, and the session still has to be valid.
 */
export function isAllowedOrigin(origin: string | undefined, host: string | undefined): boolean {
  if (origin === undefined) return true;
  try {
    const url = new URL(origin);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.host === host;
  } catch {
    return false;
  }
}

export function createRealtime(httpServer: http.Server, deps: RealtimeDeps): Realtime {
  const { log } = deps;
  const presence = new Presence();
  const io: IoServer = new Server(httpServer, {
    maxHttpBufferSize: deps.config.limits.socketMaxBufferBytes,
    serveClient: true,
    // A browser that vanishes without closing its socket (crash, lost network) counts as
    // online until the heartbeat gives up: Socket.IO's defaults (25 s + 20 s) let a sender
    // be told "online" for 45 s after; this keeps it under 20 s, for one small packet
    // per socket every 10 s.
    pingInterval: HEARTBEAT_INTERVAL_MS,
    pingTimeout: HEARTBEAT_TIMEOUT_MS,
    // The classic adapter, not the sharded or streams one: it counts the other processes
    // from Redis itself (PUBSUB NUMSUB), so a question is never left waiting on a process
    // that has died, where the others count by heartbeat and keep waiting on a dead one
    // until it has missed them for 10 s.
    // bench/redis-adapters.ts measures the three.
    ...(deps.redis && {
      adapter: createAdapter(deps.redis.pub, deps.redis.sub, {
        key: deps.redis.key('socket.io'),
        requestsTimeout: PEER_TIMEOUT_MS,
        publishOnSpecificResponseChannel: true,
      }),
    }),
    allowRequest: (req, callback) => {
      const allowed = isAllowedOrigin(req.headers.origin, req.headers.host);
      if (!allowed) log.warn({ origin: req.headers.origin }, 'socket handshake refused: cross-site Origin');
      callback(allowed ? null : 'cross-site origin refused', allowed);
    },
  });

  // Socket.IO answers /socket.io/ (its client script, polling, handshakes) before Express
  // sees the request: its responses get the same protective headers as the pages here.
  const headers = securityHeaders(deps.config);
  httpServer.prependListener('request', (req, res) => {
    if (req.url?.startsWith('/socket.io/')) headers(req as never, res as never, () => undefined);
  });

  // The session is read on the handshake only: later polling requests of the same
  // connection would otherwise each cost a session-store read.
  io.engine.use((req: Request & { _query?: { sid?: string } }, res: http.ServerResponse, next: (err?: unknown) => void) => {
    if (req._query?.sid === undefined) deps.session(req, res as never, next);
    else next();
  });

  io.use((socket, next) => {
    const req = socket.request as Request;
    const locale = localeFromRequest(req);
    // A refused handshake is final for socket.io-client; `code` tells a browser whether
    // trying again later can help ('unavailable') or only signing in can ('signIn').
    const refuse = (code: 'signIn' | 'unavailable' | 'tooMany', key = `messaging.error.${code}`) => {
      const err = new Error('unauthorized') as Error & { data?: unknown };
      err.data = { error: translator(locale)(key, { maximum: deps.config.limits.socketsPerMember }), code };
      next(err);
    };
    const userId = req.session?.userId;
    if (!userId) return refuse('signIn');
    // Only the name is needed: a lean read leaves less garbage per handshake than a document.
    findUserName(userId).then(
      (user) => {
        // A session from before a password change (or reset) signs in no socket, and a
        // suspended member is signed out everywhere (moderation/suspension.ts).
        if (!user || (user.authVersion ?? 0) !== (req.session.authVersion ?? 0) || isSuspended(user)) return refuse('signIn');
        // Every socket costs memory: a member's tabs on this process are limited (SOCKETS_PER_MEMBER).
        const open = io.of('/').adapter.rooms.get(userRoom(user._id.toString()))?.size ?? 0;
        if (open >= deps.config.limits.socketsPerMember) {
          log.warn({ userId: user._id.toString(), open }, 'socket handshake refused: too many sockets for one member');
          return refuse('tooMany', 'safety.sockets.tooMany');
        }
        socket.data = { userId: user._id.toString(), username: user.username, locale, sessionId: req.sessionID };
        next();
      },
      (err: unknown) => {
        log.error({ err }, 'socket handshake: could not load the user');
        refuse('unavailable');
      },
    );
  });

  io.on('connection', (socket) => {
    const { userId } = socket.data;
    void socket.join(userRoom(userId));
    // Everything this socket needs from its handshake request is taken now (socket.data,
    // the rooms); Socket.IO would otherwise keep that request, with its session and
    // headers, for the connection's whole life (its "Memory usage" guide discards it too).
    (socket.conn as unknown as { request: unknown }).request = null;
    // A socket counts as online from the moment it connects; adduser only confirms it.
    const online = () => {
      if (presence.add(userId, socket.id)) announce(userId, true);
    };
    const offline = () => {
      if (presence.remove(userId, socket.id)) announceIfGone(userId);
    };
    online();
    const isOwnId = (value: unknown) => typeof value === 'string' && value.toLowerCase() === userId;

    onEvent(socket, 'adduser', log, (payload) => {
      if (!isOwnId(payload)) return false;
      online();
      return true;
    }, false);
    // The socket stays in its user's room (the tab keeps receiving), but no longer makes the user online.
    onEvent(socket, 'deleteuser', log, (payload) => {
      if (!isOwnId(payload)) return false;
      offline();
      return true;
    }, false);
    socket.on('disconnect', offline);
    // An event nobody handles still gets an answer when the client waits for one.
    // ('error' has Socket.IO's own no-op listener, which answers nothing.)
    socket.onAny((event: unknown, ...args: unknown[]) => {
      const ack = args.at(-1);
      if (typeof ack !== 'function' || (typeof event === 'string' && event !== 'error' && socket.listenerCount(event) > 0)) return;
      (ack as (failure: Failure) => void)({ ok: false, code: 'invalid', error: translator(socket.data.locale)('messaging.error.unknownEvent') });
    });

    for (const feature of deps.features) feature(socket);
  });

  /** Tells the sockets watching `userId` (on every process) that they came or went. */
  function announce(userId: string, isOnline: boolean): void {
    io.to(presenceRoom(userId)).emit('presence', { user: userId, online: isOnline });
  }

  /** Their last socket here went: offline only if no other process has one either. */
  function announceIfGone(userId: string): void {
    whoIsOnline([userId]).then(
      (online) => {
        if (!online.has(userId)) announce(userId, false);
      },
      (err: unknown) => log.warn({ err }, 'presence: could not tell whether a member went offline'),
    );
  }

  // Every process answers for its own sockets. The question comes from our own
  // processes through Redis, but is checked like any input.
  io.on('whoIsOnline', (userIds, ack) => {
    if (typeof ack !== 'function') return;
    ack(Array.isArray(userIds) ? userIds.filter((id) => typeof id === 'string' && presence.isOnline(id)) : []);
  });

  /** The other processes' answers; one that does not answer in time counts as having no one online. */
  function askOtherProcesses(userIds: string[]): Promise<string[][]> {
    return new Promise((resolve) => {
      const fail = (err: unknown, answers: string[][] = []) => {
        log.warn({ err }, 'who is online: not every process answered');
        resolve(answers);
      };
      // The adapter's own timeout covers a process that does not answer; this one covers
      // Redis not answering at all, where the adapter drops the question silently.
      const timer = setTimeout(() => fail(new Error('no answer from Redis')), PEER_TIMEOUT_MS + 500);
      io.serverSideEmitWithAck('whoIsOnline', userIds).then(
        (answers) => {
          clearTimeout(timer);
          resolve(answers);
        },
        (err: Error & { responses?: string[][] }) => {
          clearTimeout(timer);
          fail(err, err.responses);
        },
      );
    });
  }

  async function whoIsOnline(userIds: string[]): Promise<Set<string>> {
    const online = new Set(userIds.filter((id) => presence.isOnline(id)));
    const elsewhere = new Set(userIds.filter((id) => !online.has(id)));
    // One process, everyone online here, or Redis away (no one could answer): no need to ask.
    if (!deps.redis || elsewhere.size === 0 || deps.redis.pub.status !== 'ready') return online;
    for (const answer of await askOtherProcesses([...elsewhere])) {
      if (Array.isArray(answer)) for (const id of answer) if (elsewhere.has(id)) online.add(id);
    }
    return online;
  }

  const notify: Notify = (userIds, event, payload, options) => {
    if (userIds.length === 0) return;
    let target = io.to(userIds.map(userRoom));
    if (options?.except) target = target.except(options.except);
    (target.emit as (event: string, payload: unknown) => boolean)(event, payload);
  };

  // Signing out is rare: a look through this process's sockets costs less than a room
  // per socket would in memory.
  const endLocalSession = (sessionId: string) => {
    for (const socket of io.of('/').sockets.values()) if (socket.data.sessionId === sessionId) socket.disconnect(true);
  };
  io.on('endSession', (sessionId) => endLocalSession(String(sessionId)));
  const endSession = (sessionId: string) => {
    endLocalSession(sessionId);
    if (deps.redis) io.serverSideEmit('endSession', sessionId);
  };

  const endLocalUserSessions = (userId: string, keepSessionId: string | null) => {
    for (const socket of io.of('/').sockets.values()) {
      if (socket.data.userId === userId && socket.data.sessionId !== keepSessionId) socket.disconnect(true);
    }
  };
  io.on('endUserSessions', (userId, keep) => endLocalUserSessions(String(userId), typeof keep === 'string' ? keep : null));
  const endUserSessions = (userId: string, keepSessionId?: string) => {
    endLocalUserSessions(userId, keepSessionId ?? null);
    if (deps.redis) io.serverSideEmit('endUserSessions', userId, keepSessionId ?? null);
  };
  // The adapter carries the disconnect to every process holding one of their sockets.
  const endUser = (userId: string) => io.in(userRoom(userId)).disconnectSockets(true);

  // Through the adapter, so on every process, in order: first out of the room, then the dot goes.
  const stopWatching = (watcherId: string, userId: string) => {
    io.in(userRoom(watcherId)).socketsLeave(presenceRoom(userId));
    io.to(userRoom(watcherId)).emit('presence', { user: userId, online: false });
  };

  return { io, presence, notify, whoIsOnline, endSession, endUserSessions, endUser, stopWatching };
}

/**
 * Listens for a client event whatever the client sends: any payload shape, an ack
 * callback or none, in any position. The handler's answer goes to the ack; a handler
 * that throws is logged and answered with `onError`, never with the error itself.
 */
export function onEvent<R>(
  socket: AppSocket,
  event: keyof ClientToServerEvents,
  log: Logger,
  handler: (payload: unknown) => R | Promise<R>,
  onError: R | ((err: unknown) => R),
): void {
  socket.on(event, async (...args: unknown[]) => {
    const last = args.at(-1);
    const ack = typeof last === 'function' ? (args.pop() as (result: R) => void) : undefined;
    let result: R;
    try {
      result = await handler(args[0]);
    } catch (err) {
      log.error({ err, event, userId: socket.data.userId }, 'socket event failed');
      result = typeof onError === 'function' ? (onError as (err: unknown) => R)(err) : onError;
    }
    try {
      ack?.(result);
    } catch (err) {
      log.warn({ err, event }, 'socket ack failed');
    }
  });
}
