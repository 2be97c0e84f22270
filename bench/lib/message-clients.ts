// Socket.IO clients that speak Parley's events, against any server that speaks them:
// the bare relay now, Parley itself once messaging lands. A target says how to get
// users that may connect; everything after that is the same code for both.
import { io, type Socket } from 'socket.io-client';
import { withTimeout } from './stats.ts';

export interface BenchUser {
  /** What `adduser` is told and what `to_user` names. */
  id: string;
  username: string;
  /** Sent with the websocket handshake: Parley's session cookie, for example. */
  headers?: Record<string, string>;
}

export interface MessagingTarget {
  name: string;
  url: string;
  /** Users that may connect: for Parley, registered and logged in through its pages. */
  createUsers(count: number, label: string): Promise<BenchUser[]>;
}

export interface SendbackPayload {
  content?: unknown;
  message?: { _id?: unknown; content?: unknown };
}

export interface ConnectedUser {
  user: BenchUser;
  socket: Socket;
}

export type SendbackListener = (receiver: ConnectedUser, payload: SendbackPayload) => void;

const CONNECT_BATCH = 50;

/**
 * Opens one websocket per user (no polling: one file descriptor each, no upgrade
 * dance) and announces it with `adduser`. Sendbacks go to whichever listener is
 * current, so one set of clients serves several measured phases.
 */
export class ClientPool {
  readonly clients: ConnectedUser[] = [];
  private listener: SendbackListener | undefined;
  /** Disconnections nobody asked for, across the pool's life: a run with any is suspect. */
  unexpectedDisconnects = 0;
  private closing = false;

  constructor(private readonly url: string) {}

  onSendback(listener: SendbackListener | undefined): void {
    this.listener = listener;
  }

  async connect(users: BenchUser[], timeoutMs = 20_000): Promise<ConnectedUser[]> {
    const added: ConnectedUser[] = [];
    for (let i = 0; i < users.length; i += CONNECT_BATCH) {
      const batch = users.slice(i, i + CONNECT_BATCH);
      added.push(...(await Promise.all(batch.map((user) => this.connectOne(user, timeoutMs)))));
    }
    return added;
  }

  private async connectOne(user: BenchUser, timeoutMs: number): Promise<ConnectedUser> {
    const socket = io(this.url, {
      transports: ['websocket'],
      forceNew: true,
      reconnection: false,
      timeout: timeoutMs,
      extraHeaders: user.headers ?? {},
    });
    const connected: ConnectedUser = { user, socket };
    this.clients.push(connected);
    socket.on('sendback', (payload: SendbackPayload) => this.listener?.(connected, payload));
    await withTimeout(
      new Promise<void>((resolve, reject) => {
        socket.once('connect', () => resolve());
        socket.once('connect_error', (err) => reject(new Error(`${user.username} could not connect: ${err.message}`)));
      }),
      timeoutMs,
      `connecting ${user.username}`,
    );
    socket.on('disconnect', () => {
      if (!this.closing) this.unexpectedDisconnects += 1;
    });
    const accepted: unknown = await socket.timeout(timeoutMs).emitWithAck('adduser', user.id);
    if (accepted !== true) throw new Error(`adduser(${user.id}) was answered ${JSON.stringify(accepted)}`);
    return connected;
  }

  async close(): Promise<void> {
    this.closing = true;
    for (const { socket } of this.clients) socket.disconnect();
    this.clients.length = 0;
  }
}

let anonymousCount = 0;

/** Users for a server without accounts, such as the relay: any unique id will do. */
export function anonymousUsers(count: number, label: string): BenchUser[] {
  return Array.from({ length: count }, (_, i) => ({
    // Shaped like an ObjectId so payloads weigh what Parley's do.
    id: (++anonymousCount).toString(16).padStart(24, '0'),
    username: `${label}${i}`,
  }));
}
