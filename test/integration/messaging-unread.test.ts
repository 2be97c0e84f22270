// Unread counts that stay right across tabs: counting, mark-read by socket and by
// opening the conversation, read receipts.
import { beforeAll, describe, expect, it } from 'vitest';
import type { MarkReadAck, UnreadPayload } from '../../src/realtime/events.ts';
import { sendTo as send, useTestServer } from '../support/messaging.ts';
import type { TestServer } from '../support/server.ts';
import { collect, connectAs, emitAck, nextEvent } from '../support/sockets.ts';
import { registerUser } from '../support/users.ts';

const running = useTestServer();
let server: TestServer;
beforeAll(() => {
  server = running.current;
});

const headerBadge = (html: string) => /<span[^>]*data-unread-total[^>]*>/.exec(html)?.[0] ?? '';

describe('unread counts', () => {
  it('count each incoming message and tell every tab of the recipient the new totals', async () => {
    const [alice, bob] = await Promise.all([registerUser(server.url), registerUser(server.url)]);
    const [tab1, tab2] = await Promise.all([connectAs(server.url, bob), connectAs(server.url, bob)]);
    const aliceSocket = await connectAs(server.url, alice);
    const third = [tab1, tab2].map((tab) => nextEvent(tab, 'unread', (p) => p.count === 3));
    for (const text of ['1', '2', '3']) await send(aliceSocket, bob, text);
    for (const payload of await Promise.all(third)) {
      expect(payload).toMatchObject({ total: 3, count: 3, user: { _id: alice.id, username: alice.username } });
    }
    const inbox = await bob.agent.get('/api/inbox');
    expect(inbox.body).toMatchObject({ ok: true, total: 3 });
    expect(inbox.body.conversations[0]).toMatchObject({ unread: 3, user: { _id: alice.id } });
    // The sender's own count does not move.
    expect((await alice.agent.get('/api/inbox')).body.total).toBe(0);
  });

  it('add up across conversations, and clearing one leaves the others', async () => {
    const [alice, carol, bob] = await Promise.all([registerUser(server.url), registerUser(server.url), registerUser(server.url)]);
    const [aliceSocket, carolSocket, bobSocket] = await Promise.all([connectAs(server.url, alice), connectAs(server.url, carol), connectAs(server.url, bob)]);
    await send(aliceSocket, bob, 'from alice');
    const last = await send(carolSocket, bob, 'from carol');
    await send(carolSocket, bob, 'from carol again');
    expect((await bob.agent.get('/api/inbox')).body.total).toBe(3);
    const ack = await emitAck<MarkReadAck>(bobSocket, 'markread', { user: carol.id });
    expect(ack).toEqual({ ok: true, total: 1, count: 0 });
    const inbox = (await bob.agent.get('/api/inbox')).body;
    const counts = Object.fromEntries(inbox.conversations.map((c: { user: { _id: string }; unread: number }) => [c.user._id, c.unread]));
    expect(counts).toEqual({ [alice.id]: 1, [carol.id]: 0 });
    expect(last.message.seq).toBeGreaterThan(0);
  });

  it('carry an increasing version, so a tab can drop an update that arrives late', async () => {
    const [alice, bob] = await Promise.all([registerUser(server.url), registerUser(server.url)]);
    const bobSocket = await connectAs(server.url, bob);
    const seen = collect(bobSocket, 'unread');
    const aliceSocket = await connectAs(server.url, alice);
    const done = nextEvent(bobSocket, 'unread', (p) => p.count === 5);
    await Promise.all(['a', 'b', 'c', 'd', 'e'].map((text) => send(aliceSocket, bob, text)));
    await done;
    // Messages stored together are counted together: one update may cover several.
    // However many there were, a higher version never carries a lower count.
    const byVersion = [...seen].sort((x, y) => x.v - y.v);
    expect(new Set(seen.map((p) => p.v)).size).toBe(seen.length);
    const totals = byVersion.map((p) => p.total);
    expect(totals).toEqual([...totals].sort((x, y) => x - y));
    expect(totals.at(-1)).toBe(5);
  });
});

describe('marking read', () => {
  it('by socket clears the count in every tab and tells the sender how far it was read', async () => {
    const [alice, bob] = await Promise.all([registerUser(server.url), registerUser(server.url)]);
    const [tab1, tab2] = await Promise.all([connectAs(server.url, bob), connectAs(server.url, bob)]);
    const aliceSocket = await connectAs(server.url, alice);
    await send(aliceSocket, bob, 'one');
    const two = await send(aliceSocket, bob, 'two');
    const cleared = nextEvent(tab2, 'unread', (p) => p.count === 0);
    const receipt = nextEvent(aliceSocket, 'read');
    const ack = await emitAck<MarkReadAck>(tab1, 'markread', { username: alice.username, upTo: two.message.seq });
    expect(ack).toEqual({ ok: true, total: 0, count: 0 });
    expect(await cleared).toMatchObject({ total: 0, count: 0, user: { _id: alice.id } });
    expect(await receipt).toEqual({ user: bob.id, upTo: two.message.seq });
    const history = await alice.agent.get(`/messages/${encodeURIComponent(bob.username)}/history`);
    expect(history.body.readUpTo).toBe(two.message.seq);
  });

  it('not by opening the conversation page (a prefetch is not reading), but by its form, updating the other tabs', async () => {
    const [alice, bob] = await Promise.all([registerUser(server.url), registerUser(server.url)]);
    const otherTab = await connectAs(server.url, bob);
    const aliceSocket = await connectAs(server.url, alice);
    const sent = await send(aliceSocket, bob, 'read me');
    const receipts = collect(aliceSocket, 'read');
    const path = `/messages/${encodeURIComponent(alice.username)}`;
    const page = await bob.agent.get(path);
    expect(page.status).toBe(200);
    expect(page.text).toContain(`${alice.username} · Parley</title>`);
    expect(headerBadge(page.text)).toContain('data-unread="1"');
    expect((await bob.agent.get('/api/inbox')).body.total).toBe(1);
    expect((await alice.agent.get(`/messages/${encodeURIComponent(bob.username)}/history`)).body.readUpTo).toBe(0);
    expect(receipts).toEqual([]);

    const _csrf = /name="_csrf" value="([^"]+)"/.exec(page.text)![1]!;
    expect((await bob.agent.post(`${path}/read`).type('form').send({ upTo: String(sent.message.seq) })).status).toBe(403);
    expect((await bob.agent.get('/api/inbox')).body.total).toBe(1);
    const cleared = nextEvent(otherTab, 'unread', (p) => p.total === 0);
    const receipt = nextEvent(aliceSocket, 'read');
    const marked = await bob.agent.post(`${path}/read`).type('form').send({ _csrf, upTo: String(sent.message.seq) });
    expect(marked.status).toBe(303);
    expect(marked.headers.location).toBe(path);
    expect(await cleared).toMatchObject({ total: 0, count: 0 });
    expect(await receipt).toEqual({ user: bob.id, upTo: sent.message.seq });
    expect(headerBadge((await bob.agent.get(path)).text)).not.toContain('data-unread=');
  });

  it('keeps the count when a newer message has arrived that the reader has not seen', async () => {
    const [alice, bob] = await Promise.all([registerUser(server.url), registerUser(server.url)]);
    const [aliceSocket, bobSocket] = await Promise.all([connectAs(server.url, alice), connectAs(server.url, bob)]);
    const seen = await send(aliceSocket, bob, 'seen');
    await send(aliceSocket, bob, 'not seen yet');
    const ack = await emitAck<MarkReadAck>(bobSocket, 'markread', { user: alice.id, upTo: seen.message.seq });
    expect(ack).toEqual({ ok: true, total: 2, count: 2 });
  });

  it.each([
    [null, 'The message must be an object with a recipient and content.'],
    [{}, 'Please say who the message is for.'],
    [{ user: { $ne: null } }, 'The recipient id must be a 24-character hexadecimal user id.'],
    [{ username: 'nobody-here' }, 'There is no member with that username.'],
    [{ username: 'x', upTo: 'all' }, 'upTo must be a whole number of at least 0.'],
    [{ username: 'x', upTo: -1 }, 'upTo must be a whole number of at least 0.'],
  ])('answers markread %j with a clear error', async (payload, error) => {
    const bob = await registerUser(server.url);
    const socket = await connectAs(server.url, bob);
    expect(await emitAck(socket, 'markread', payload)).toMatchObject({ ok: false, error });
  });

  it('with nothing unread changes nothing and sends no events', async () => {
    const [alice, bob] = await Promise.all([registerUser(server.url), registerUser(server.url)]);
    const bobSocket = await connectAs(server.url, bob);
    const events: UnreadPayload[] = collect(bobSocket, 'unread');
    expect(await emitAck(bobSocket, 'markread', { user: alice.id })).toEqual({ ok: true, total: 0, count: 0 });
    expect(await emitAck(bobSocket, 'adduser', bob.id)).toBe(true);
    expect(events).toEqual([]);
  });
});
