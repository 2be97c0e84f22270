// Backpressure: past what the send queue holds, a send is refused at once as busy, with
// a time to retry after, instead of waiting behind the others; sent again after that
// time with the same client id (what the browser's outbox does), every message is
// stored exactly once and nothing is lost.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { MessageModel } from '../../src/messaging/models.ts';
import type { SendAck } from '../../src/realtime/events.ts';
import { sendRaw } from '../support/messaging.ts';
import { startOwnDatabase, type OwnDatabase } from '../support/own-database.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { closeAllSockets, collect, connectAs, emitAck } from '../support/sockets.ts';
import { registerUser } from '../support/users.ts';

const BUSY_EN = 'Messages are arriving faster than they can be stored right now, so this one was not sent yet. It will be sent again in a moment.';
const BUSY_ZH = '当前消息过多，暂时无法保存，这条消息尚未发送。稍后会自动重新发送。';

let db: OwnDatabase;
let server: TestServer;

beforeAll(async () => {
  db = await startOwnDatabase();
  // A queue of one: a send is refused whenever another is being written.
  // Users kept in memory for a minute: the sends below read nothing but what they store.
  server = await startTestServer({ MONGODB_URI: db.uri, MESSAGE_QUEUE_MAX: '1', MESSAGE_STORE_TIMEOUT_MS: '20000', READ_CACHE_MS: '60000' });
});
afterAll(async () => {
  closeAllSockets();
  await server?.close();
  await db?.remove();
});

type Refused = Extract<SendAck, { ok: false }>;

describe.runIf(inject('dbEngine') !== 'mongodb')('a full send queue', () => {
  it('refuses at once, without waiting on the database, in the member’s language, and the retries store every message once', { timeout: 60_000 }, async () => {
    const [alice, bob] = await Promise.all([registerUser(server.url), registerUser(server.url)]);
    const [aliceSocket, zhSocket, bobSocket] = await Promise.all([
      connectAs(server.url, alice),
      connectAs(server.url, { cookie: `${alice.cookie}; parley.lang=zh-CN` }),
      connectAs(server.url, bob),
    ]);
    // The first message reads Bob (kept in memory from then on).
    expect((await sendRaw(aliceSocket, { to_user: bob.id, content: 'hello', client_id: 'busy-warm' })).ok).toBe(true);
    const delivered = collect(bobSocket, 'sendback');

    // The database stalls with one send in the queue: that send cannot finish…
    db.freeze();
    let stuck: Promise<SendAck>;
    const refusals: Refused[] = [];
    try {
      stuck = sendRaw(aliceSocket, { to_user: bob.id, content: 'first', client_id: 'busy-0' });
      while (server.storage.commit.size === 0) await new Promise((resolve) => setTimeout(resolve, 5));
      // …and every later one is answered while it is still stuck: the answer did not wait on storage.
      for (let i = 1; i <= 4; i++) {
        const socket = i === 4 ? zhSocket : aliceSocket;
        const ack = await sendRaw(socket, { to_user: bob.id, content: `message ${i}`, client_id: `busy-${i}` });
        expect(ack.ok).toBe(false);
        refusals.push(ack as Refused);
      }
    } finally {
      db.thaw();
    }
    for (const refusal of refusals.slice(0, 3)) {
      expect(refusal).toMatchObject({ ok: false, code: 'busy', error: BUSY_EN });
      expect(refusal.retryAfter).toBeGreaterThanOrEqual(50);
    }
    expect(refusals[3]).toMatchObject({ ok: false, code: 'busy', error: BUSY_ZH });
    expect((await stuck!).ok).toBe(true);
    expect(await MessageModel.countDocuments({ from: alice.id })).toBe(2);

    // The outbox's way: after the delay asked for, the same client id again, until stored.
    for (let i = 1; i <= 4; i++) {
      let ack: SendAck = refusals[i - 1]!;
      while (!ack.ok) {
        expect(ack.code).toBe('busy');
        await new Promise((resolve) => setTimeout(resolve, (ack as Refused).retryAfter));
        ack = await sendRaw(aliceSocket, { to_user: bob.id, content: `message ${i}`, client_id: `busy-${i}` });
      }
    }
    const stored = await MessageModel.find({ from: alice.id }).lean();
    expect(stored.map((m) => m.clientId).sort()).toEqual(['busy-0', 'busy-1', 'busy-2', 'busy-3', 'busy-4', 'busy-warm']);
    expect(await emitAck(bobSocket, 'adduser', bob.id)).toBe(true);
    expect(delivered.map((p) => p.message.clientId)).toEqual(['busy-0', 'busy-1', 'busy-2', 'busy-3', 'busy-4']);
    expect((await bob.agent.get('/api/inbox')).body.total).toBe(6);
  });
});
