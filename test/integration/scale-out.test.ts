// Two app processes, as `docker compose --profile scaled` runs them: one database, one
// Redis, users signed in on either. Whatever a user can observe must not depend on which
// process their tabs reached.
import mongoose from 'mongoose';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { connectDatabase } from '../../src/db/database.ts';
import type { MarkReadAck, ReadPayload, UnreadPayload } from '../../src/realtime/events.ts';
import { deleteRedisKeys, startAppProcess, TEST_REDIS_URL, uniqueRedisPrefix, type AppProcess } from '../support/app-process.ts';
import { testDatabaseUri } from '../support/database.ts';
import { accepted, sendRaw, sendTo, type SentAck } from '../support/messaging.ts';
import { closeAllSockets, collect, connectAs, emitAck, nextEvent, type ClientSocket } from '../support/sockets.ts';
import { registerUser, type SignedInUser } from '../support/users.ts';

// Low enough for the shared-limit test to reach quickly, above what the other tests send per user.
const MESSAGE_LIMIT = 24;
const databaseUri = testDatabaseUri('scale');
const redisPrefix = uniqueRedisPrefix('scale');
let a: AppProcess;
let b: AppProcess;

beforeAll(async () => {
  await connectDatabase(databaseUri);
  const env = {
    MONGODB_URI: databaseUri,
    REDIS_URL: TEST_REDIS_URL,
    REDIS_PREFIX: redisPrefix,
    // Both processes sign the same cookies: a session made on one is valid on the other.
    SESSION_SECRET: 'scale-out-test-secret-scale-out-test-secret',
    REGISTER_RATE: '10000/1m',
    LOGIN_RATE_PER_IP: '10000/1m',
    MESSAGE_RATE: `${MESSAGE_LIMIT}/10m`,
    // Copies kept for a minute: whatever another process changed must reach this one by other means.
    READ_CACHE_MS: '60000',
  };
  [a, b] = await Promise.all([startAppProcess(env), startAppProcess(env)]);
});

afterEach(() => closeAllSockets());

afterAll(async () => {
  closeAllSockets();
  const codes = await Promise.all([a.stop(), b.stop()]);
  await mongoose.disconnect();
  await deleteRedisKeys(redisPrefix);
  // A clean exit: shutdown closed the database and Redis rather than being cut short.
  expect(codes, `${a.output()}\n${b.output()}`).toEqual([0, 0]);
});

/** Registered on `home`; the session cookie signs them in on either process. */
const member = (home: AppProcess) => registerUser(home.url);

async function isOnlineAsSeenBy(viewer: SignedInUser, other: SignedInUser): Promise<boolean> {
  const res = await viewer.agent.get(`/messages/${encodeURIComponent(other.username)}/history`);
  return (res.body as { user: { online: boolean } }).user.online;
}

/** Waits until the process `viewer` uses sees `other` offline (a disconnect is processed asynchronously). */
async function untilOffline(viewer: SignedInUser, other: SignedInUser): Promise<void> {
  while (await isOnlineAsSeenBy(viewer, other)) await new Promise((resolve) => setTimeout(resolve, 20));
}

describe('two processes on one database and one Redis', () => {
  it('deliver both ways between users signed in on different processes, each seen online', async () => {
    const [alice, bob] = await Promise.all([member(a), member(b)]);
    const [aliceSocket, bobSocket] = await Promise.all([connectAs(a.url, alice), connectAs(b.url, bob)]);

    const toBob = nextEvent(bobSocket, 'sendback', (p) => p.content === 'hello from A');
    const sent = await sendTo(aliceSocket, bob, 'hello from A');
    expect(sent.online).toBe(true);
    const received = await toBob;
    expect(received.message).toEqual(sent.message);
    expect(received.friend).toMatchObject({ _id: alice.id, username: alice.username });

    const toAlice = nextEvent(aliceSocket, 'sendback', (p) => p.content === 'hello from B');
    const reply = await sendTo(bobSocket, alice, 'hello from B');
    expect(reply.online).toBe(true);
    expect((await toAlice).message).toEqual(reply.message);
    expect(reply.message.seq).toBe(sent.message.seq + 1);
  });

  it('reach every tab of a user whichever process each tab is on, and the sender\u2019s other tabs', async () => {
    const [alice, bob] = await Promise.all([member(a), member(b)]);
    const [aliceOnA, aliceOnB, bobOnB] = await Promise.all([connectAs(a.url, alice), connectAs(b.url, alice), connectAs(b.url, bob)]);

    const bothTabs = [aliceOnA, aliceOnB].map((tab) => nextEvent(tab, 'sendback', (p) => p.content === 'to both tabs'));
    const fromBob = await sendTo(bobOnB, alice, 'to both tabs');
    for (const payload of await Promise.all(bothTabs)) {
      expect(payload.message._id).toBe(fromBob.message._id);
      expect(payload.friend._id).toBe(bob.id);
    }

    // Sent on A: the tab on B shows it as alice's own message, with bob as the friend.
    const echoedOnA = collect(aliceOnA, 'sendback');
    const onOtherTab = nextEvent(aliceOnB, 'sendback', (p) => p.content === 'from my tab on A');
    const toBob = nextEvent(bobOnB, 'sendback', (p) => p.content === 'from my tab on A');
    const mine = await sendTo(aliceOnA, bob, 'from my tab on A');
    const otherTab = await onOtherTab;
    expect(otherTab.message._id).toBe(mine.message._id);
    expect(otherTab.friend._id).toBe(bob.id);
    // Once bob (on B, like the other tab) has it, the sending tab would have had its copy too.
    await toBob;
    expect(echoedOnA.filter((p) => p.message._id === mine.message._id)).toEqual([]);
  });

  it('keep unread counts and read receipts live across processes', async () => {
    const [alice, bob] = await Promise.all([member(a), member(b)]);
    const [aliceOnA, aliceOnB, bobOnB] = await Promise.all([connectAs(a.url, alice), connectAs(b.url, alice), connectAs(b.url, bob)]);

    const counted = [aliceOnA, aliceOnB].map((tab) => nextEvent(tab, 'unread', (p) => p.count === 2));
    await sendTo(bobOnB, alice, 'one');
    const last = await sendTo(bobOnB, alice, 'two');
    for (const payload of await Promise.all(counted)) expect(payload).toMatchObject({ total: 2, count: 2, user: { _id: bob.id } });

    // Read on B: the tab on A hears its count drop, and bob hears how far alice has read.
    const cleared = nextEvent(aliceOnA, 'unread', (p: UnreadPayload) => p.count === 0);
    const receipt = nextEvent(bobOnB, 'read', (p: ReadPayload) => p.user === alice.id);
    const ack = await emitAck<MarkReadAck>(aliceOnB, 'markread', { user: bob.id, upTo: last.message.seq });
    expect(ack).toEqual({ ok: true, total: 0, count: 0 });
    expect(await cleared).toMatchObject({ total: 0, count: 0 });
    expect(await receipt).toEqual({ user: alice.id, upTo: last.message.seq });
  });

  it('tell the sender the recipient is offline only once their last socket on any process is gone', async () => {
    const [carol, dave] = await Promise.all([member(a), member(a)]);
    const [carolOnA, carolOnB] = await Promise.all([connectAs(a.url, carol), connectAs(b.url, carol)]);
    const daveOnA = await connectAs(a.url, dave);
    expect((await sendTo(daveOnA, carol, 'both tabs open')).online).toBe(true);

    // Carol's only socket is now on B; dave's process (A) has to ask B.
    carolOnA.disconnect();
    expect((await sendTo(daveOnA, carol, 'tab on B still open')).online).toBe(true);

    // deleteuser on B: that socket stays connected, but no longer counts.
    expect(await emitAck(carolOnB, 'deleteuser', carol.id)).toBe(true);
    expect((await sendTo(daveOnA, carol, 'after deleteuser')).online).toBe(false);
    expect(await emitAck(carolOnB, 'adduser', carol.id)).toBe(true);
    expect((await sendTo(daveOnA, carol, 'after adduser')).online).toBe(true);

    carolOnB.disconnect();
    await untilOffline(dave, carol);
    const stored = await sendTo(daveOnA, carol, 'nobody home');
    expect(stored.online).toBe(false);
    // The message waits for her, whichever process she comes back to.
    const history = await carol.agent.get(`/messages/${encodeURIComponent(dave.username)}/history`);
    expect(history.body.messages.at(-1)).toMatchObject({ _id: stored.message._id, content: 'nobody home' });
  });

  it('number concurrent messages of one conversation sent through both processes once each, and count them all unread', async () => {
    const [erin, frank] = await Promise.all([member(a), member(b)]);
    const tabs = await Promise.all([connectAs(a.url, erin), connectAs(b.url, erin), connectAs(a.url, frank), connectAs(b.url, frank)]);
    const [erinOnA, erinOnB, frankOnA, frankOnB] = tabs;
    const perTab = 10;
    const burst = (socket: ClientSocket, to: SignedInUser, label: string) =>
      Array.from({ length: perTab }, (_, i) => sendTo(socket, to, `${label} ${i}`));
    const acks: SentAck[] = await Promise.all([
      ...burst(erinOnA, frank, 'erin via A'),
      ...burst(erinOnB, frank, 'erin via B'),
      ...burst(frankOnA, erin, 'frank via A'),
      ...burst(frankOnB, erin, 'frank via B'),
    ]);
    const total = acks.length;

    const seqs = acks.map((ack) => ack.message.seq).sort((x, y) => x - y);
    expect(seqs).toEqual(Array.from({ length: total }, (_, i) => i + 1));

    // What derives from messages (history pages, inbox counts) is written behind them: a
    // reader on the storing process sees it at once, one on the other process within a
    // pass of the storing process's view writer.
    const history = async () => {
      const res = await erin.agent.get(`/messages/${encodeURIComponent(frank.username)}/history`);
      return (res.body.messages as { _id: string }[]).map((m) => m._id).sort();
    };
    await expect.poll(history).toEqual(acks.map((ack) => ack.message._id).sort());

    // Each has every message of the other unread, and a preview of the last one.
    for (const [reader, other] of [
      [erin, frank],
      [frank, erin],
    ] as const) {
      const inbox = async () => (await reader.agent.get('/api/inbox')).body as { total: number; conversations: { user: { _id: string }; unread: number; last: { seq: number } }[] };
      await expect.poll(async () => (await inbox()).conversations[0]?.last.seq).toBe(total);
      expect((await inbox()).total).toBe(2 * perTab);
      expect((await inbox()).conversations).toEqual([expect.objectContaining({ user: expect.objectContaining({ _id: other.id }), unread: 2 * perTab, last: expect.objectContaining({ seq: total }) })]);
    }
  });

  it('hold a member to one message rate limit across processes', async () => {
    const [gina, hal] = await Promise.all([member(a), member(b)]);
    const [ginaOnA, ginaOnB] = await Promise.all([connectAs(a.url, gina), connectAs(b.url, gina)]);
    const half = MESSAGE_LIMIT / 2;
    for (let i = 0; i < half; i++) {
      accepted(await sendRaw(ginaOnA, { to_user: hal.id, content: `A ${i}` }));
      accepted(await sendRaw(ginaOnB, { to_user: hal.id, content: `B ${i}` }));
    }
    // Each process has seen only half the limit: only a shared count refuses these.
    for (const socket of [ginaOnA, ginaOnB]) {
      const ack = await sendRaw(socket, { to_user: hal.id, content: 'one too many' });
      expect(ack).toMatchObject({ ok: false, code: 'rateLimited' });
    }
    const inbox = (await hal.agent.get('/api/inbox')).body as { total: number };
    expect(inbox.total).toBe(MESSAGE_LIMIT);
  });

  it('apply a block made on one process to sends through the other at once, though each keeps users in memory', async () => {
    const [ivy, ned] = await Promise.all([member(a), member(b)]);
    const nedSocket = await connectAs(b.url, ned);
    // Process B reads ivy (the recipient) and keeps her for READ_CACHE_MS.
    accepted(await sendRaw(nedSocket, { to_user: ivy.id, content: 'before the block' }));

    const page = (await ivy.agent.get(`/users/${ned.username}`)).text;
    const form = /action="(\/users\/[^"]+\/block)"[\s\S]*?name="_csrf" value="([^"]+)"/.exec(page)!;
    expect((await ivy.agent.post(form[1]!).type('form').send({ _csrf: form[2], back: 'profile' })).status).toBe(303);

    // The block was written on A; B hears of it through Redis, long before its copy of ivy expires.
    const deadline = Date.now() + 2000;
    let answer = await sendRaw(nedSocket, { to_user: ivy.id, content: 'after the block' });
    while (answer.ok && Date.now() < deadline) answer = await sendRaw(nedSocket, { to_user: ivy.id, content: 'after the block' });
    expect(answer).toMatchObject({ ok: false, code: 'blocked' });
  });

  it('close a signed-out browser\u2019s sockets on the other process too', async () => {
    const pia = await member(a);
    const onB = await connectAs(b.url, pia);
    const closed = new Promise<string>((resolve) => onB.once('disconnect', (reason) => resolve(reason)));
    const page = (await pia.agent.get('/')).text;
    const _csrf = /name="_csrf" value="([^"]+)"/.exec(page)![1];
    expect((await pia.agent.post('/logout').type('form').send({ _csrf })).status).toBe(303);
    expect(await closed).toBe('io server disconnect');
  });
});
