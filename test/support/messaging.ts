// What the messaging test files share: one real server per file, sockets closed after
// each test, and sending with the acknowledgement checked.
import { afterAll, afterEach, beforeAll } from 'vitest';
import type { SendAck } from '../../src/realtime/events.ts';
import { startTestServer, type TestServer } from './server.ts';
import { closeAllSockets, emitAck, type ClientSocket } from './sockets.ts';
import type { SignedInUser } from './users.ts';

/** Starts a server for this test file; call at the top level and read `.current` inside tests. */
export function useTestServer(env: Record<string, string> = {}): { current: TestServer } {
  const handle = {} as { current: TestServer };
  beforeAll(async () => {
    handle.current = await startTestServer(env);
  });
  afterEach(() => closeAllSockets());
  afterAll(async () => {
    closeAllSockets();
    await handle.current?.close();
  });
  return handle;
}

export type SentAck = Extract<SendAck, { ok: true }>;

export function sendRaw(socket: ClientSocket, payload: unknown): Promise<SendAck> {
  return emitAck<SendAck>(socket, 'privatemsg', payload);
}

/** The acknowledgement of an accepted send; a refusal fails the test with its reason. */
export function accepted(ack: SendAck): SentAck {
  if (!ack.ok) throw new Error(`send refused: ${ack.error}`);
  return ack;
}

/** Sends `content` to `to` and returns the accepted acknowledgement. */
export async function sendTo(socket: ClientSocket, to: Pick<SignedInUser, 'id'>, content: string): Promise<SentAck> {
  return accepted(await sendRaw(socket, { to_user: to.id, content }));
}
