// Real socket.io-client connections over real signed-in sessions, and waits on events
// (promises that settle when the thing happens, never sleeps).
import { io as connect, type Socket } from 'socket.io-client';
import type { ClientToServerEvents, ServerToClientEvents } from '../../src/realtime/events.ts';
import type { SignedInUser } from './users.ts';

export type ClientSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

const open: ClientSocket[] = [];

export interface ConnectOptions {
  origin?: string;
  transports?: ('websocket' | 'polling')[];
  /** Wait for `connect` (default) or return at once. */
  wait?: boolean;
  /** Reconnect by itself after a lost connection, as the browser's client does (quickly, for tests). */
  reconnect?: boolean;
}

/** A socket signed in as `user` (or anonymous with `null`), connected. */
export async function connectAs(url: string, user: Pick<SignedInUser, 'cookie'> | null, options: ConnectOptions = {}): Promise<ClientSocket> {
  const headers: Record<string, string> = {};
  if (user) headers.cookie = user.cookie;
  if (options.origin) headers.origin = options.origin;
  const socket: ClientSocket = connect(url, {
    extraHeaders: headers,
    transports: options.transports ?? ['websocket'],
    reconnection: options.reconnect ?? false,
    reconnectionDelay: 100,
    reconnectionDelayMax: 500,
    forceNew: true,
    timeout: 5000,
  });
  open.push(socket);
  if (options.wait !== false) {
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('connect_error', (err) => reject(err));
    });
  }
  return socket;
}

/** The error a refused connection reports. */
export function connectError(socket: ClientSocket): Promise<Error & { data?: { error?: string; code?: string } }> {
  return new Promise((resolve, reject) => {
    socket.once('connect', () => reject(new Error('connected, but should have been refused')));
    socket.once('connect_error', (err) => resolve(err as Error & { data?: { error?: string; code?: string } }));
  });
}

/** Resolves with the next `event` payload that passes `filter`. */
export function nextEvent<E extends keyof ServerToClientEvents>(
  socket: ClientSocket,
  event: E,
  filter: (payload: Parameters<ServerToClientEvents[E]>[0]) => boolean = () => true,
): Promise<Parameters<ServerToClientEvents[E]>[0]> {
  return new Promise((resolve) => {
    const listener = (payload: Parameters<ServerToClientEvents[E]>[0]) => {
      if (!filter(payload)) return;
      socket.off(event, listener as never);
      resolve(payload);
    };
    socket.on(event, listener as never);
  });
}

/** Collects every `event` payload from now on. */
export function collect<E extends keyof ServerToClientEvents>(socket: ClientSocket, event: E): Parameters<ServerToClientEvents[E]>[0][] {
  const seen: Parameters<ServerToClientEvents[E]>[0][] = [];
  socket.on(event, ((payload: Parameters<ServerToClientEvents[E]>[0]) => seen.push(payload)) as never);
  return seen;
}

/** Emits with an ack and resolves with the acknowledgement (untyped payloads allowed: tests send bad ones). */
export function emitAck<T = unknown>(socket: ClientSocket, event: string, ...args: unknown[]): Promise<T> {
  return (socket.timeout(5000) as unknown as { emitWithAck(event: string, ...args: unknown[]): Promise<T> }).emitWithAck(event, ...args);
}

/** Emits without an ack (a client that gives no callback). */
export function emitRaw(socket: ClientSocket, event: string, ...args: unknown[]): void {
  (socket as unknown as { emit(event: string, ...args: unknown[]): void }).emit(event, ...args);
}

export function closeAllSockets(): void {
  for (const socket of open.splice(0)) socket.disconnect();
}
