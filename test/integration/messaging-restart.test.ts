// The app restarting under connected clients: they reconnect by themselves, their
// sessions hold, and they catch up on what they missed; sends in flight at shutdown are
// stored whole and acknowledged, or refused clearly.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { connectDatabase } from '../../src/db/database.ts';
import { freePort } from '../../src/db/embedded.ts';
import { fromPageEntry, InboxModel, MessageModel, MessagePageModel, pageEntries, pageId, pageNumber, unreadTotalOf, type InboxDoc, type PageDoc } from '../../src/messaging/models.ts';
import type { MessageView, SendAck } from '../../src/realtime/events.ts';
import mongoose from 'mongoose';
import { startCuttableProxy } from '../support/cuttable-proxy.ts';
import { testDatabaseUri } from '../support/database.ts';
import { accepted, sendRaw } from '../support/messaging.ts';
import { startTestServer } from '../support/server.ts';
import { closeAllSockets, connectAs, type ClientSocket } from '../support/sockets.ts';
import { registerUser, type SignedInUser } from '../support/users.ts';

const RESTARTING = 'The server is restarting, so nothing was sent. It will be back in a moment.';

afterAll(async () => {
  closeAllSockets();
  await mongoose.disconnect();
});

/**
 * What the browser's conversation view does: shows messages as they arrive, and after
 * every reconnect fetches those newer than the newest it shows; each message once.
 */
function followConversation(socket: ClientSocket, baseUrl: string, me: SignedInUser, other: SignedInUser) {
  const shown = new Map<string, MessageView>();
  const caughtUp: string[] = [];
  let catchUps: Promise<void>[] = [];
  const newest = () => Math.max(0, ...[...shown.values()].map((m) => m.seq));
  socket.on('sendback', (payload) => {
    if (payload.friend._id === other.id) shown.set(payload.message._id, payload.message);
  });
  socket.io.on('reconnect', () => {
    catchUps.push(
      (async () => {
        const res = await fetch(`${baseUrl}/messages/${encodeURIComponent(other.username)}/history?after=${newest()}`, { headers: { cookie: me.cookie } });
        if (res.status !== 200) throw new Error(`catch-up answered ${res.status}: the session did not hold`);
        for (const message of ((await res.json()) as { messages: MessageView[] }).messages) {
          if (!shown.has(message._id)) caughtUp.push(message._id);
          shown.set(message._id, message);
        }
      })(),
    );
  });
  return {
    /** Message ids in conversation order. */
    ids: () => [...shown.values()].sort((a, b) => a.seq - b.seq).map((m) => m._id),
    caughtUp,
    async settled() {
      const pending = catchUps;
      catchUps = [];
      await Promise.all(pending);
    },
  };
}

function reconnected(socket: ClientSocket): Promise<void> {
  return new Promise((resolve) => socket.io.once('reconnect', () => resolve()));
}

describe('an app restart', () => {
  it('clients reconnect by themselves, their sessions hold, and they catch up on what they missed, each message once', { timeout: 60_000 }, async () => {
    // Same port, data directory and database across the restart; the session secret is
    // the one the app generated and kept under DATA_DIR.
    const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'parley-restart-'));
    const env = { PORT: String(await freePort()), DATA_DIR: dataDir, SESSION_SECRET: '', MONGODB_URI: testDatabaseUri('restart') };
    let server = await startTestServer(env);
    const proxy = await startCuttableProxy(server.port);
    try {
      const [alice, bob] = await Promise.all([registerUser(server.url), registerUser(server.url)]);
      const aliceSocket = await connectAs(server.url, alice, { reconnect: true });
      // Bob's network goes through the proxy, so the test decides when he is back.
      const bobSocket = await connectAs(proxy.url, bob, { reconnect: true });
      const bobView = followConversation(bobSocket, proxy.url, bob, alice);
      const live = accepted(await sendRaw(aliceSocket, { to_user: bob.id, content: 'before the restart' }));
      await expect.poll(() => bobView.ids()).toEqual([live.message._id]);

      proxy.block();
      const aliceBack = reconnected(aliceSocket);
      await server.close();
      server = await startTestServer(env);
      await aliceBack;
      // Alice's socket came back by itself with her old session; Bob is still cut off.
      const missed = accepted(await sendRaw(aliceSocket, { to_user: bob.id, content: 'while you were away' }));
      expect(missed.online).toBe(false);

      const bobBack = reconnected(bobSocket);
      proxy.unblock();
      await bobBack;
      await bobView.settled();
      const after = accepted(await sendRaw(aliceSocket, { to_user: bob.id, content: 'welcome back' }));
      expect(after.online).toBe(true);
      await expect.poll(() => bobView.ids()).toEqual([live.message._id, missed.message._id, after.message._id]);
      expect(bobView.caughtUp).toEqual([missed.message._id]);
    } finally {
      await proxy.close();
      await server.close();
      await fs.rm(dataDir, { recursive: true, force: true });
    }
  });
});

describe('shutdown', () => {
  it('stores and acknowledges the sends under way, refuses later ones clearly, and leaves nothing half-stored', { timeout: 60_000 }, async () => {
    const server = await startTestServer();
    const uri = server.db.uri;
    const bob = await registerUser(server.url);
    const senders = await Promise.all(Array.from({ length: 4 }, () => registerUser(server.url)));
    const sockets = await Promise.all(senders.map((sender) => connectAs(server.url, sender)));
    type Outcome = { clientId: string; ack?: SendAck; lost?: string };
    const outcomes: Promise<Outcome>[] = [];
    const sendRound = (round: number) =>
      sockets.forEach((socket, i) => {
        const clientId = `drain-${i}-${round}`;
        outcomes.push(
          sendRaw(socket, { to_user: bob.id, content: `message ${clientId}`, client_id: clientId }).then(
            (ack) => ({ clientId, ack }),
            (err: Error) => ({ clientId, lost: err.message }),
          ),
        );
      });
    for (let round = 0; round < 10; round++) sendRound(round);
    while (server.messaging.writesInFlight === 0) await new Promise((resolve) => setImmediate(resolve));
    const underWay = server.messaging.writesInFlight;
    const closing = server.close();
    // These arrive while the app drains the ones before.
    for (let round = 10; round < 12; round++) sendRound(round);
    await closing;
    const results = await Promise.all(outcomes);

    const stored = results.filter((r) => r.ack?.ok);
    const refused = results.filter((r) => r.ack && !r.ack.ok);
    const unanswered = results.filter((r) => r.lost);
    console.log(`shutdown with ${underWay} sends under way: ${stored.length} acknowledged, ${refused.length} refused, ${unanswered.length} never reached the app`);
    expect(stored.length).toBeGreaterThanOrEqual(underWay);
    expect(refused.length).toBeGreaterThan(0);
    for (const r of refused) expect(r.ack).toEqual({ ok: false, code: 'unavailable', error: RESTARTING });
    // Only a send the app had not read yet may go unanswered (the browser resends it).
    for (const r of unanswered) expect(r.lost).toBe('socket has been disconnected');

    // Whole or not at all: every stored message is in its history page and counted unread.
    await connectDatabase(uri);
    const messages = await MessageModel.find({ to: bob.id }).lean();
    expect(messages.map((m) => m.clientId).sort()).toEqual(expect.arrayContaining(stored.map((r) => r.clientId).sort()));
    for (const r of refused) expect(messages.some((m) => m.clientId === r.clientId)).toBe(false);
    for (const m of messages) {
      const page = await MessagePageModel.findById(pageId(m.conv, pageNumber(m.seq))).lean<PageDoc>();
      expect(pageEntries(page).map((entry) => fromPageEntry(entry)._id)).toContain(m._id);
    }
    expect(unreadTotalOf(await InboxModel.findById(bob.id).lean<InboxDoc>())).toBe(messages.length);
  });
});
