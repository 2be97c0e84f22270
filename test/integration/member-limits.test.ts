// Limits on what one member can do that costs the server or another member: blocking,
// username suggestions, open sockets, and following others' online status.
import { beforeAll, describe, expect, it } from 'vitest';
import type { WatchPresenceAck } from '../../src/realtime/events.ts';
import { useTestServer } from '../support/messaging.ts';
import type { TestServer } from '../support/server.ts';
import { collect, connectAs, connectError, emitAck } from '../support/sockets.ts';
import { csrfToken, registerUser, type SignedInUser } from '../support/users.ts';

const running = useTestServer({ BLOCK_RATE: '3/10m', SUGGEST_RATE: '3/1m', WATCH_PRESENCE_RATE: '3/1m', SOCKETS_PER_MEMBER: '3' });
let server: TestServer;
beforeAll(() => {
  server = running.current;
});

const idOf = (n: number) => n.toString(16).padStart(24, '0');

async function conversation(from: SignedInUser, to: SignedInUser): Promise<void> {
  expect(await server.messaging.send({ id: from.id, username: from.username }, { to_user: to.id, content: 'hello' })).toMatchObject({ ok: true });
}

describe('per-member limits', () => {
  it('limit blocking and unblocking, saying how long to wait and changing nothing', async () => {
    const [me, other] = await Promise.all([registerUser(server.url), registerUser(server.url)]);
    const _csrf = await csrfToken(me.agent, `/users/${other.username}`);
    const act = (what: 'block' | 'unblock') => me.agent.post(`/users/${other.username}/${what}`).type('form').send({ _csrf, back: 'profile' });
    for (const what of ['block', 'unblock', 'block'] as const) expect((await act(what)).status).toBe(303);
    const refused = await act('unblock');
    expect(refused.status).toBe(429);
    expect(refused.text).toMatch(/Please wait \d+ seconds/);
    // Still blocked: the refused unblock wrote nothing.
    expect((await me.agent.get(`/users/${other.username}`)).text).toMatch(/data-block-form data-blocked/);
  });

  it('limit username suggestions, answering in JSON', async () => {
    const me = await registerUser(server.url);
    for (let i = 0; i < 3; i++) expect((await me.agent.get('/api/users/suggest').query({ q: 'us' })).status).toBe(200);
    const refused = await me.agent.get('/api/users/suggest').query({ q: 'us' });
    expect(refused.status).toBe(429);
    expect(refused.body).toMatchObject({ ok: false, error: expect.stringMatching(/wait \d+ seconds/) });
  });

  it('limit the sockets one member may open, and let another in once one closes', async () => {
    const me = await registerUser(server.url);
    const tabs = await Promise.all([1, 2, 3].map(() => connectAs(server.url, me)));
    const refused = await connectError(await connectAs(server.url, me, { wait: false }));
    expect(refused.data).toMatchObject({ code: 'tooMany', error: expect.stringContaining('at most 3') });
    const closed = new Promise((resolve) => tabs[0]!.once('disconnect', resolve));
    tabs[0]!.disconnect();
    await closed;
    // The server sees the close a moment after the client does: try until it has.
    for (;;) {
      const socket = await connectAs(server.url, me, { wait: false });
      const outcome = await new Promise<boolean>((resolve) => {
        socket.once('connect', () => resolve(true));
        socket.once('connect_error', () => resolve(false));
      });
      if (outcome) break;
    }
  });

  it('let a page follow only members its reader has a conversation with', async () => {
    const [me, friend, stranger] = await Promise.all([registerUser(server.url), registerUser(server.url), registerUser(server.url)]);
    await conversation(friend, me);
    await Promise.all([connectAs(server.url, friend), connectAs(server.url, stranger)]);
    const page = await connectAs(server.url, me);
    expect(await emitAck<WatchPresenceAck>(page, 'watchpresence', [friend.id, stranger.id])).toEqual({ ok: true, online: [friend.id] });
    const events = collect(page, 'presence');
    await connectAs(server.url, stranger);
    await emitAck(page, 'adduser', me.id);
    expect(events).toEqual([]);
  });

  it('limit how often a page asks to follow presence', async () => {
    const me = await registerUser(server.url);
    const page = await connectAs(server.url, me);
    for (let i = 0; i < 3; i++) expect(await emitAck(page, 'watchpresence', [])).toEqual({ ok: true, online: [] });
    expect(await emitAck(page, 'watchpresence', [])).toMatchObject({ ok: false, code: 'rateLimited', retryAfter: expect.any(Number), error: expect.stringMatching(/wait \d+ seconds/) });
  });

  it('say in the socket\u2019s language what is wrong with a list of ids, and name the real limit', async () => {
    const me = await registerUser(server.url);
    const english = await connectAs(server.url, me);
    const tooMany = Array.from({ length: 301 }, (_, i) => idOf(i));
    expect(await emitAck(english, 'watchpresence', tooMany)).toEqual({ ok: false, code: 'invalid', error: 'Online status can be asked for at most 300 members at once.' });
    expect(await emitAck(english, 'watchpresence', [{ $ne: 1 }])).toEqual({ ok: false, code: 'invalid', error: 'Online status can be asked only for a list of member ids.' });
    const chinese = await connectAs(server.url, { cookie: `${me.cookie}; parley.lang=zh-CN` });
    expect(await emitAck(chinese, 'watchpresence', tooMany)).toEqual({ ok: false, code: 'invalid', error: '一次最多只能查询 300 位成员的在线状态。' });
  });
});
