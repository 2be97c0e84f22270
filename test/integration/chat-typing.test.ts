// The typing indicator over real sockets on real sessions: who hears it, who never does,
// and that a tab which goes away stops "typing" for it, on one process and across two.
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { TypingAck, TypingPayload } from '../../src/realtime/events.ts';
import { deleteRedisKeys, startAppProcess, TEST_REDIS_URL, uniqueRedisPrefix } from '../support/app-process.ts';
import { useTestServer } from '../support/server.ts';
import { closeAllSockets, collect, connectAs, emitAck, nextEvent, type ClientSocket } from '../support/sockets.ts';
import { csrfToken, registerUser, type SignedInUser } from '../support/users.ts';

const server = useTestServer({ LOG_LEVEL: 'silent' });
afterEach(() => closeAllSockets());

const typing = (socket: ClientSocket, to: SignedInUser, state: boolean) =>
  emitAck<TypingAck>(socket, 'typing', { to_user: to.id, typing: state });
const from = (user: SignedInUser) => (payload: TypingPayload) => payload.user._id === user.id;

async function block(blocker: SignedInUser, other: SignedInUser): Promise<void> {
  const path = `/users/${encodeURIComponent(other.username)}`;
  const _csrf = await csrfToken(blocker.agent, path);
  const res = await blocker.agent.post(`${path}/block`).type('form').send({ _csrf });
  expect(res.status).toBe(303);
}

describe('typing', () => {
  it('reaches every tab of the other member, with who is typing, and then that they stopped', async () => {
    const [alice, bob] = await Promise.all([registerUser(server.current.url), registerUser(server.current.url)]);
    const aliceTab = await connectAs(server.current.url, alice);
    const bobTabs = await Promise.all([connectAs(server.current.url, bob), connectAs(server.current.url, bob)]);

    const started = bobTabs.map((tab) => nextEvent(tab, 'typing', from(alice)));
    await expect(typing(aliceTab, bob, true)).resolves.toEqual({ ok: true });
    for (const payload of await Promise.all(started)) {
      expect(payload).toEqual({ user: { _id: alice.id, username: alice.username }, conversation: null, typing: true });
    }
    const stopped = nextEvent(bobTabs[0]!, 'typing', from(alice));
    await typing(aliceTab, bob, false);
    expect((await stopped).typing).toBe(false);
  });

  it('says "stopped" for a tab that disconnects while typing', async () => {
    const [alice, bob] = await Promise.all([registerUser(server.current.url), registerUser(server.current.url)]);
    const aliceTab = await connectAs(server.current.url, alice);
    const bobTab = await connectAs(server.current.url, bob);
    const started = nextEvent(bobTab, 'typing', from(alice));
    await typing(aliceTab, bob, true);
    await started;
    const stopped = nextEvent(bobTab, 'typing', from(alice));
    aliceTab.disconnect();
    expect(await stopped).toMatchObject({ user: { _id: alice.id }, typing: false });
  });

  it('never reaches a member who blocked the typist, and answers the typist the same', async () => {
    const [alice, bob, carol] = await Promise.all([registerUser(server.current.url), registerUser(server.current.url), registerUser(server.current.url)]);
    await block(bob, alice);
    const aliceTab = await connectAs(server.current.url, alice);
    const carolTab = await connectAs(server.current.url, carol);
    const bobTab = await connectAs(server.current.url, bob);
    const heard = collect(bobTab, 'typing');

    await expect(typing(aliceTab, bob, true)).resolves.toEqual({ ok: true });
    // Carol's event is emitted after Alice's was handled: once Bob has it, Alice's would have come first.
    const carols = nextEvent(bobTab, 'typing', from(carol));
    await typing(carolTab, bob, true);
    await carols;
    expect(heard.map((p) => p.user.username)).toEqual([carol.username]);
  });

  it('refuses a malformed event with a clear answer, and a flood of them', async () => {
    const [alice, bob] = await Promise.all([registerUser(server.current.url), registerUser(server.current.url)]);
    const aliceTab = await connectAs(server.current.url, alice);
    for (const bad of [null, 'x', { to_user: 'nobody', typing: true }, { to_user: bob.id }, { to_user: bob.id, typing: 'yes' }]) {
      const ack = await emitAck<TypingAck>(aliceTab, 'typing', bad);
      expect(ack).toMatchObject({ ok: false, code: 'invalid' });
      expect((ack as { error: string }).error).toMatch(/to_user/);
    }
    const acks = await Promise.all(Array.from({ length: 12 }, (_, i) => typing(aliceTab, bob, i % 2 === 0)));
    expect(acks.filter((a) => a.ok).length).toBeLessThanOrEqual(5);
    expect(acks.find((a) => !a.ok)).toMatchObject({ code: 'rateLimited' });
  });
});

describe('typing across two processes', () => {
  const prefix = uniqueRedisPrefix('typing');
  const processes: Awaited<ReturnType<typeof startAppProcess>>[] = [];
  afterAll(async () => {
    await Promise.all(processes.map((p) => p.stop()));
    await deleteRedisKeys(prefix);
  });

  it('reaches the other member on the other process, and "stopped" when the typist’s tab goes', async () => {
    const env = {
      // The in-process server's database, so the test's own reads (registerUser) see these members.
      MONGODB_URI: server.current.config.mongodbUri!,
      REDIS_URL: TEST_REDIS_URL,
      REDIS_PREFIX: prefix,
      SESSION_SECRET: 'typing-test-secret-typing-test-secret',
      REGISTER_RATE: '10000/1m',
    };
    const [one, two] = await Promise.all([startAppProcess(env), startAppProcess(env)]);
    processes.push(one, two);
    const [alice, bob] = await Promise.all([registerUser(one.url), registerUser(two.url)]);
    const aliceTab = await connectAs(one.url, alice);
    const bobTab = await connectAs(two.url, bob);
    const started = nextEvent(bobTab, 'typing', from(alice));
    await typing(aliceTab, bob, true);
    expect((await started).typing).toBe(true);
    const stopped = nextEvent(bobTab, 'typing', from(alice));
    aliceTab.disconnect();
    expect((await stopped).typing).toBe(false);
  });
});
