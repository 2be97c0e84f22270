// The Socket.IO server on the app's HTTP server. It shares express-session, so a socket
// is signed in exactly when its page is, and nothing in a payload can say otherwise.
import type http from 'node:http';
import type { Request, RequestHandler } from 'express';
import { Server, type Socket } from 'socket.io';
import { findUserById } from '../accounts/user-model.ts';
import type { Config } from '../config.ts';
import { localeFromRequest } from '../http/locals.ts';
import { translator } from '../i18n/index.ts';
import type { Logger } from '../log.ts';
import type { ClientToServerEvents, InterServerEvents, Notify, ServerToClientEvents, SocketData } from './events.ts';
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
}

export interface Realtime {
  io: IoServer;
  presence: Presence;
  notify: Notify;
  isOnline(userId: string): boolean;
}

const HEARTBEAT_INTERVAL_MS = 10_000;
const HEARTBEAT_TIMEOUT_MS = 10_000;

/** Every socket of a user is in this room, so one emit reaches all their tabs. */
export const userRoom = (userId: string) => `user:${userId}`;

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
    allowRequest: (req, callback) => {
      const allowed = isAllowedOrigin(req.headers.origin, req.headers.host);
      if (!allowed) log.warn({ origin: req.headers.origin }, 'socket handshake refused: cross-site Origin');
      callback(allowed ? null : 'cross-site origin refused', allowed);
    },
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
    const refuse = (key: string) => {
      const err = new Error('unauthorized') as Error & { data?: unknown };
      err.data = { error: translator(locale)(key) };
      next(err);
    };
    const userId = req.session?.userId;
    if (!userId) return refuse('messaging.error.signIn');
    findUserById(userId).then(
      (user) => {
        if (!user) return refuse('messaging.error.signIn');
        socket.data = { userId: user._id.toString(), username: user.username, locale };
        next();
      },
      (err: unknown) => {
        log.error({ err }, 'socket handshake: could not load the user');
        refuse('messaging.error.unavailable');
      },
    );
  });

  io.on('connection', (socket) => {
    const { userId } = socket.data;
    void socket.join(userRoom(userId));
    // A socket counts as online from the moment it connects; adduser only confirms it.
    presence.add(userId, socket.id);
    const isOwnId = (value: unknown) => typeof value === 'string' && value.toLowerCase() === userId;

    onEvent(socket, 'adduser', log, (payload) => {
      if (!isOwnId(payload)) return false;
      presence.add(userId, socket.id);
      return true;
    }, false);
    // The socket stays in its user's room (the tab keeps receiving), but no longer makes the user online.
    onEvent(socket, 'deleteuser', log, (payload) => {
      if (!isOwnId(payload)) return false;
      presence.remove(userId, socket.id);
      return true;
    }, false);
    socket.on('disconnect', () => presence.remove(userId, socket.id));

    for (const feature of deps.features) feature(socket);
  });

  const notify: Notify = (userIds, event, payload, options) => {
    if (userIds.length === 0) return;
    let target = io.to(userIds.map(userRoom));
    if (options?.except) target = target.except(options.except);
    (target.emit as (event: string, payload: unknown) => boolean)(event, payload);
  };

  return { io, presence, notify, isOnline: (userId) => presence.isOnline(userId) };
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
