// Crash safety of the group commit, proven by crashing: the app killed (SIGKILL) in the
// middle of batches under load, and separately the database engine killed under a
// running app. Afterwards every acknowledged message is stored and in history exactly
// once, in the order it was sent, every inbox's unread count matches the messages, and
// numbering goes on after the highest seq ever given.
import mongoose from 'mongoose';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { connectDatabase } from '../../src/db/database.ts';
import {
  ConversationModel,
  conversationId,
  fromPageEntry,
  InboxModel,
  MessageBatchModel,
  MessageModel,
  MessagePageModel,
  pageEntries,
  unreadTotalOf,
  type ConversationDoc,
  type InboxDoc,
  type PageDoc,
  type StoredMessage,
} from '../../src/messaging/models.ts';
import { messageId } from '../../src/messaging/service.ts';
import type { SendAck } from '../../src/realtime/events.ts';
import { startAppProcess, type AppProcess } from '../support/app-process.ts';
import { testDatabaseUri } from '../support/database.ts';
import { accepted, sendRaw } from '../support/messaging.ts';
import { startOwnDatabase } from '../support/own-database.ts';
import { startTestServer } from '../support/server.ts';
import { closeAllSockets, connectAs, type ClientSocket } from '../support/sockets.ts';
import { registerUser, type SignedInUser } from '../support/users.ts';

afterAll(async () => {
  closeAllSockets();
  await mongoose.disconnect();
});

const PAIRS = 4;
/** Sends each sender keeps in flight: enough for batches of several messages. */
const IN_FLIGHT = 4;

interface Sender {
  user: SignedInUser;
  to: SignedInUser;
  /** Client ids in the order they were sent, and which were acknowledged. */
  sent: string[];
  acked: Set<string>;
}

/**
 * Each sender sends numbered messages, IN_FLIGHT at a time, until `stop()`; a send that
 * got no answer (the app died) or a passing refusal is left for `resendUnacked`.
 */
function loadUntil(senders: Sender[], sockets: ClientSocket[], stop: () => boolean): Promise<void> {
  return Promise.all(
    senders.map(async (s, i) => {
      let next = s.sent.length;
      const lane = async () => {
        while (!stop()) {
          const clientId = `${s.user.id.slice(-6)}-${next++}`;
          s.sent.push(clientId);
          const ack = await sendRaw(sockets[i]!, { to_user: s.to.id, content: `message ${clientId}`, client_id: clientId }).catch(() => undefined);
          if (ack?.ok) s.acked.add(clientId);
          else if (!ack) return; // the connection is gone
        }
      };
      await Promise.all(Array.from({ length: IN_FLIGHT }, lane));
    }),
  ).then(() => undefined);
}

/** What the browser's outbox does after a reconnect: every unacknowledged message again, same client id, in order. */
async function resendUnacked(senders: Sender[], sockets: ClientSocket[]): Promise<void> {
  await Promise.all(
    senders.map(async (s, i) => {
      for (const clientId of s.sent) {
        if (s.acked.has(clientId)) continue;
        let ack: SendAck = { ok: false, code: 'unavailable', error: '' };
        while (!ack.ok) {
          ack = await sendRaw(sockets[i]!, { to_user: s.to.id, content: `message ${clientId}`, client_id: clientId });
          if (!ack.ok) {
            expect(['unavailable', 'busy']).toContain(ack.code);
            await new Promise((resolve) => setTimeout(resolve, 100));
          }
        }
        s.acked.add(clientId);
      }
    }),
  );
}

/** Everything a user could observe, checked against the messages collection. */
async function expectConsistent(senders: Sender[]): Promise<void> {
  for (const s of senders) {
    const conv = conversationId(s.user.id, s.to.id);
    const stored = (await MessageModel.find({ conv }).lean<StoredMessage[]>()).sort((a, b) => a.seq - b.seq);
    // Every acknowledged message stored once (its `_id` is its sender and client id)…
    for (const clientId of s.acked) expect(stored.filter((m) => m._id === messageId(s.user.id, clientId))).toHaveLength(1);
    // …numbered in the order it was sent, each number once.
    const order = new Map(s.sent.map((clientId, i) => [clientId, i]));
    expect(stored.map((m) => order.get(m.clientId))).toEqual([...stored.map((m) => order.get(m.clientId)!)].sort((a, b) => a - b));
    expect(new Set(stored.map((m) => m.seq)).size).toBe(stored.length);
    // In the history pages exactly once each, and nothing else there.
    const pages = await MessagePageModel.find({ conv }).lean<PageDoc[]>();
    const paged = pages.flatMap((p) => pageEntries(p).map((e) => fromPageEntry(e)._id)).sort();
    expect(paged).toEqual(stored.map((m) => m._id).sort());
    // Counted: the conversation holds them all; the recipient has them all unread (nobody read).
    const doc = await ConversationModel.findById(conv).lean<ConversationDoc>();
    expect(doc?.n).toBe(stored.length);
    expect(doc?.seq).toBeGreaterThanOrEqual(stored.at(-1)!.seq);
    expect(unreadTotalOf(await InboxModel.findById(s.to.id).lean<InboxDoc>())).toBe(stored.length);
  }
  // Every batch was finished: no journal left.
  expect(await MessageBatchModel.countDocuments()).toBe(0);
}

async function pairUp(url: string): Promise<Sender[]> {
  const users = await Promise.all(Array.from({ length: PAIRS * 2 }, () => registerUser(url)));
  return Array.from({ length: PAIRS }, (_, i) => ({ user: users[2 * i]!, to: users[2 * i + 1]!, sent: [], acked: new Set<string>() }));
}

describe('the app killed in the middle of batches', () => {
  it('loses no acknowledged message, stores none twice, keeps order and counts, and numbers on after the restart', { timeout: 120_000 }, async () => {
    const uri = testDatabaseUri('crash');
    const env = { MONGODB_URI: uri, SESSION_SECRET: 'crash-test-secret-crash-test-secret', RATE_LIMITS: 'off', REGISTER_RATE: '1000/1m' };
    await connectDatabase(uri);
    let app: AppProcess = await startAppProcess(env);
    try {
      const senders = await pairUp(app.url);
      let sockets = await Promise.all(senders.map((s) => connectAs(app.url, s.user)));
      const acked = () => senders.reduce((n, s) => n + s.acked.size, 0);
      let killed = false;
      const load = loadUntil(senders, sockets, () => killed);
      while (acked() < 120) await new Promise((resolve) => setTimeout(resolve, 5));
      // Mid-load: sends are being written as it dies.
      await app.kill();
      killed = true;
      await load;

      const journalsLeft = await MessageBatchModel.countDocuments();
      app = await startAppProcess(env);
      console.log(`killed with ${acked()} acknowledged and ${journalsLeft} batches unfinished; ${app.output().includes('cut short') ? 'repaired on start' : 'nothing to repair'}`);
      // The repair on start finished what the crash cut short, before the first send.
      await expectConsistent(senders);

      sockets = await Promise.all(senders.map((s) => connectAs(app.url, s.user)));
      await resendUnacked(senders, sockets);
      const after = await Promise.all(senders.map((s, i) => sendRaw(sockets[i]!, { to_user: s.to.id, content: 'after the crash', client_id: 'after' })));
      // Each recipient opens the conversation: what derives from the messages is written
      // behind them, and a reader on the process that stored them waits for it.
      for (const s of senders) {
        const res = await fetch(`${app.url}/messages/${encodeURIComponent(s.user.username)}/history`, { headers: { cookie: s.to.cookie } });
        expect(res.status).toBe(200);
      }
      await expectConsistent(senders.map((s) => ({ ...s, sent: [...s.sent, 'after'], acked: new Set([...s.acked, 'after']) })));
      for (const [i, s] of senders.entries()) {
        const newest = await MessageModel.findOne({ conv: conversationId(s.user.id, s.to.id) }).sort({ seq: -1 }).lean<StoredMessage>();
        expect(accepted(after[i]!).message._id).toBe(newest?._id);
      }
    } finally {
      await app.stop();
      await mongoose.disconnect();
    }
  });
});

describe.runIf(inject('dbEngine') !== 'mongodb')('the database engine killed under a running app', () => {
  it('refuses what it could not store, and once it is back the resends leave every message once, in order, counted', { timeout: 120_000 }, async () => {
    const db = await startOwnDatabase();
    const server = await startTestServer({ MONGODB_URI: db.uri, RATE_LIMITS: 'off', REGISTER_RATE: '1000/1m', MESSAGE_STORE_TIMEOUT_MS: '2000' });
    try {
      const senders = await pairUp(server.url);
      const sockets = await Promise.all(senders.map((s) => connectAs(server.url, s.user, { reconnect: true })));
      const acked = () => senders.reduce((n, s) => n + s.acked.size, 0);
      let stop = false;
      const load = loadUntil(senders, sockets, () => stop);
      while (acked() < 120) await new Promise((resolve) => setTimeout(resolve, 5));
      await db.kill();
      // Sends go on against the dead engine until the app notices: refused, never acknowledged.
      while (server.db.isConnected()) await new Promise((resolve) => setTimeout(resolve, 20));
      stop = true;
      await load;
      await db.start();
      while (!server.db.isConnected()) await new Promise((resolve) => setTimeout(resolve, 50));

      await resendUnacked(senders, sockets);
      await server.storage.views.flush(10_000);
      // The in-process app's own connection reads the database here.
      await expectConsistent(senders);
    } finally {
      await server.close();
      await db.remove();
    }
  });
});
