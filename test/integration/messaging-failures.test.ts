// When storing fails, a send is answered at once with a safe, clear error: never an ack
// for a message that was not stored, never a crash, never internals.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createLogger } from '../../src/log.ts';
import { loadConfig } from '../../src/config.ts';
import { conversationId, MessageBatchModel, MessageModel } from '../../src/messaging/models.ts';
import { repairBatches } from '../../src/messaging/repair.ts';
import { messageId } from '../../src/messaging/service.ts';
import type { SendAck } from '../../src/realtime/events.ts';
import { accepted, sendRaw, useTestServer } from '../support/messaging.ts';
import { startOwnDatabase, type OwnDatabase } from '../support/own-database.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { collect, connectAs, emitAck } from '../support/sockets.ts';
import { registerUser, type SignedInUser } from '../support/users.ts';

const UNAVAILABLE = 'Messages cannot be stored right now, so nothing was sent. Please try again in a moment.';
const NOT_CONFIRMED = 'The database did not answer in time, so the message is not confirmed. Sending it again is safe: it will not be stored twice.';

const running = useTestServer();
const silentLog = createLogger(loadConfig({ LOG_LEVEL: 'silent' }));

describe('a batch cut short', () => {
  // What a crash between storing a batch's messages and writing what derives from them
  // leaves behind: its journal and its messages, no counts, no page, no inbox entries.
  it('is finished by the repair: in history once, counted unread once; a resend then changes and delivers nothing', async () => {
    const server = running.current;
    const [alice, bob] = await Promise.all([registerUser(server.url), registerUser(server.url)]);
    const clientId = 'half-way-1';
    const { counters, views } = server.storage;
    const conv = conversationId(alice.id, bob.id);
    // The first seq of a new conversation, as the process that crashed had taken it.
    const seq = 1;
    const half = { _id: messageId(alice.id, clientId), conv, seq, from: alice.id, to: bob.id, content: 'half way', createdAt: new Date(), clientId };
    await MessageBatchModel.create({ _id: 'cut-short-1', at: new Date(), ids: [half._id], seqs: [seq], convs: [{ conv, to: seq }] });
    await MessageModel.create(half);
    expect((await bob.agent.get('/api/inbox')).body).toMatchObject({ total: 0, conversations: [] });

    expect(await repairBatches({ counters, views, log: silentLog, timeoutMs: 5000 })).toBe(1);
    expect(await MessageBatchModel.countDocuments({ _id: 'cut-short-1' })).toBe(0);
    expect((await bob.agent.get('/api/inbox')).body).toMatchObject({ total: 1, conversations: [{ unread: 1, last: { preview: 'half way' } }] });
    expect((await bob.agent.get(`/messages/${alice.username}/history`)).body.messages.map((m: { _id: string }) => m._id)).toEqual([half._id]);

    const [aliceSocket, bobSocket] = await Promise.all([connectAs(server.url, alice), connectAs(server.url, bob)]);
    const delivered = collect(bobSocket, 'sendback');
    const ack = accepted(await sendRaw(aliceSocket, { to_user: bob.id, content: 'half way', client_id: clientId }));
    expect(ack.message).toMatchObject({ _id: half._id, seq });
    expect(await emitAck(bobSocket, 'adduser', bob.id)).toBe(true);
    expect(delivered).toEqual([]);
    expect((await bob.agent.get('/api/inbox')).body.total).toBe(1);
    expect(await MessageModel.countDocuments({ clientId })).toBe(1);
  });
});

describe('with the database gone', () => {
  it('refuses sends and mark-reads with a clear error and delivers nothing', async () => {
    const server = running.current;
    const [alice, bob] = await Promise.all([registerUser(server.url), registerUser(server.url)]);
    const [aliceSocket, bobSocket] = await Promise.all([connectAs(server.url, alice), connectAs(server.url, bob)]);
    const delivered = collect(bobSocket, 'sendback');
    await server.db.connection.close();

    const ack = await emitAck(aliceSocket, 'privatemsg', { to_user: bob.id, content: 'into the void' });
    expect(ack).toEqual({ ok: false, code: 'unavailable', error: UNAVAILABLE });
    expect(await emitAck(bobSocket, 'markread', { user: alice.id })).toMatchObject({ ok: false, code: 'unavailable' });
    // Bad input is still answered as bad input, without the database.
    expect(await emitAck(aliceSocket, 'privatemsg', { to_user: bob.id, content: '' })).toMatchObject({ ok: false, code: 'invalid' });
    expect(await emitAck(bobSocket, 'adduser', bob.id)).toBe(true);
    expect(delivered).toEqual([]);
  });
});

// A database engine of this file's own, stopped and started again under the running app.
describe('with the database stopped and started again under a running app', () => {
  let db: OwnDatabase;
  let server: TestServer;
  let alice: SignedInUser;
  let bob: SignedInUser;
  beforeAll(async () => {
    db = await startOwnDatabase();
    server = await startTestServer({ MONGODB_URI: db.uri, MESSAGE_STORE_TIMEOUT_MS: '1000' });
    [alice, bob] = await Promise.all([registerUser(server.url), registerUser(server.url)]);
  });
  afterAll(async () => {
    await server?.close();
    await db?.remove();
  });

  /** Waits for the app's driver to find the database again; no sleeping on a guess. */
  async function reconnected(): Promise<void> {
    while (!server.db.isConnected()) await new Promise((resolve) => setTimeout(resolve, 50));
  }

  it('answers sends at once while it is down, stores and delivers nothing, and sends work again by themselves once it is back', async () => {
    const [aliceSocket, bobSocket] = await Promise.all([connectAs(server.url, alice), connectAs(server.url, bob)]);
    const delivered = collect(bobSocket, 'sendback');
    const first = accepted(await sendRaw(aliceSocket, { to_user: bob.id, content: 'before', client_id: 'outage-0' }));

    await db.stop();
    // Before the app has noticed, the send waits on the driver until the store timeout:
    // not confirmed (the browser resends it later with the same client id).
    const unnoticed = await sendRaw(aliceSocket, { to_user: bob.id, content: 'during outage-1', client_id: 'outage-1' });
    expect(unnoticed).toMatchObject({ ok: false, code: 'unavailable' });
    expect([UNAVAILABLE, NOT_CONFIRMED]).toContain((unnoticed as { error: string }).error);
    while (server.db.isConnected()) await new Promise((resolve) => setTimeout(resolve, 50));
    // Once it has, at once: nothing was sent.
    for (const clientId of ['outage-2', 'outage-3']) {
      const ack = await sendRaw(aliceSocket, { to_user: bob.id, content: `during ${clientId}`, client_id: clientId });
      expect(ack).toEqual({ ok: false, code: 'unavailable', error: UNAVAILABLE });
    }
    expect(await emitAck(bobSocket, 'markread', { user: alice.id })).toEqual({ ok: false, code: 'unavailable', error: UNAVAILABLE });
    expect(await emitAck(bobSocket, 'adduser', bob.id)).toBe(true);

    await db.start();
    await reconnected();
    // The same connection, not a new one: the app recovered by itself.
    const resent = accepted(await sendRaw(aliceSocket, { to_user: bob.id, content: 'during outage-1', client_id: 'outage-1' }));
    const after = accepted(await sendRaw(aliceSocket, { to_user: bob.id, content: 'after', client_id: 'outage-4' }));
    expect(aliceSocket.connected && bobSocket.connected).toBe(true);

    const stored = await MessageModel.find({ from: alice.id }).lean();
    expect(stored.map((m) => m.clientId).sort()).toEqual(['outage-0', 'outage-1', 'outage-4']);
    expect(await emitAck(bobSocket, 'adduser', bob.id)).toBe(true);
    expect(delivered.map((p) => p.message._id)).toEqual([first.message._id, resent.message._id, after.message._id]);
    const inbox = await bob.agent.get('/api/inbox');
    expect(inbox.body.total).toBe(3);
  });

  it.runIf(inject('dbEngine') !== 'mongodb')(
    'answers within the store timeout when the database stalls, and a resend after it wakes stores the message once',
    async () => {
      const [aliceSocket, bobSocket] = await Promise.all([connectAs(server.url, alice), connectAs(server.url, bob)]);
      const delivered = collect(bobSocket, 'sendback');
      const payload = { to_user: bob.id, content: 'through the stall', client_id: 'stall-1' };
      const unreadBefore = (await bob.agent.get('/api/inbox')).body.total as number;
      db.freeze();
      let acks: SendAck[];
      try {
        // The browser's queue sends it again with the same client id while the first
        // attempt is still stuck: the second must wait for the first, not race it.
        acks = [await sendRaw(aliceSocket, payload), await sendRaw(aliceSocket, payload)];
      } finally {
        db.thaw();
      }
      expect(acks).toEqual([1, 2].map(() => ({ ok: false, code: 'unavailable', error: NOT_CONFIRMED })));
      while (server.messaging.writesInFlight > 0) await new Promise((resolve) => setTimeout(resolve, 20));
      const resent = accepted(await sendRaw(aliceSocket, payload));
      expect(await MessageModel.countDocuments({ clientId: 'stall-1' })).toBe(1);
      expect(await emitAck(bobSocket, 'adduser', bob.id)).toBe(true);
      expect(delivered.map((p) => p.message._id)).toEqual([resent.message._id]);
      expect((await bob.agent.get('/api/inbox')).body.total).toBe(unreadBefore + 1);
      const history = await bob.agent.get(`/messages/${alice.username}/history`);
      expect(history.body.messages.filter((m: { _id: string }) => m._id === resent.message._id)).toHaveLength(1);
      // One attempt numbered and stored the message: it is the newest. A second writer
      // racing the first would have stored another copy under a later number.
      expect(history.body.latestSeq).toBe(resent.message.seq);
    },
  );
});
