// Group conversations across two app processes sharing one database and Redis: members
// on either process get every message, typing and receipts live, counts stay right under
// sends through both, and a member who leaves on one process is out on the other at once
// (members kept for a minute: only the relayed change can drop them).
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import type { TypingAck } from '../../src/realtime/events.ts';
import { useTwoProcesses, type AppProcess } from '../support/app-process.ts';
import { accepted, sendRaw } from '../support/messaging.ts';
import { collect, connectAs, emitAck, nextEvent } from '../support/sockets.ts';
import { csrfToken, registerUser, type SignedInUser } from '../support/users.ts';

const procs = useTwoProcesses('groups-scale', {
  SESSION_SECRET: 'groups-scale-test-secret-groups-scale-test',
  REGISTER_RATE: '10000/1m',
  LOGIN_RATE_PER_IP: '10000/1m',
  MESSAGE_RATE: '1000/1m',
  // Members kept for a minute: only the relayed change can drop them.
  READ_CACHE_MS: '60000',
});
/** The same member's session on another process. */
const get = (app: AppProcess, user: SignedInUser, path: string) => request(app.url).get(path).set('Cookie', user.cookie);

async function startGroup(owner: SignedInUser, names: string[]): Promise<string> {
  const _csrf = await csrfToken(owner.agent, '/messages');
  const res = await owner.agent.post('/messages').type('form').send({ _csrf, to: names.join(', '), content: 'first' });
  expect(res.status).toBe(303);
  return /\/messages\/c\/(g[0-9a-f]{24})$/.exec(String(res.headers.location))![1]!;
}

describe('group conversations across two processes', () => {
  it('deliver messages, typing, unread counts and receipts to members on either process', async () => {
    const [alice, bob, carol] = await Promise.all([registerUser(procs.a.url), registerUser(procs.a.url), registerUser(procs.b.url)]);
    const conv = await startGroup(alice, [bob.username, carol.username]);
    const aliceTab = await connectAs(procs.a.url, alice);
    const [bobTab, carolTab] = await Promise.all([connectAs(procs.b.url, bob), connectAs(procs.b.url, carol)]);

    const typing = nextEvent(carolTab, 'typing', (p) => p.conversation === conv);
    await expect(emitAck<TypingAck>(aliceTab, 'typing', { conversation: conv, typing: true })).resolves.toEqual({ ok: true });
    expect(await typing).toMatchObject({ user: { _id: alice.id }, typing: true });

    const heard = [bobTab, carolTab].map((tab) => nextEvent(tab, 'sendback', (p) => p.message.content === 'across'));
    const unread = nextEvent(carolTab, 'unread', (p) => p.conversation === conv && p.count === 2);
    const ack = accepted(await sendRaw(aliceTab, { conversation: conv, content: 'across' }));
    for (const p of await Promise.all(heard)) expect(p.message._id).toBe(ack.message._id);
    expect((await unread).total).toBe(2);

    const receipt = nextEvent(aliceTab, 'read', (p) => p.conversation === conv && p.user === carol.id);
    await emitAck(carolTab, 'markread', { conversation: conv, upTo: ack.message.seq });
    expect((await receipt).upTo).toBe(ack.message.seq);
    expect((await get(procs.a, carol, '/api/inbox')).body.total).toBe(0);
    expect((await get(procs.b, bob, '/api/inbox')).body.total).toBe(2);
  });

  it('number concurrent sends through both processes once each and count them all', async () => {
    const [alice, bob, carol] = await Promise.all([registerUser(procs.a.url), registerUser(procs.b.url), registerUser(procs.a.url)]);
    const conv = await startGroup(alice, [bob.username, carol.username]);
    const [aliceTab, bobTab] = await Promise.all([connectAs(procs.a.url, alice), connectAs(procs.b.url, bob)]);
    const sends = [];
    for (let i = 0; i < 10; i++) {
      sends.push(sendRaw(aliceTab, { conversation: conv, content: `a${i}` }), sendRaw(bobTab, { conversation: conv, content: `b${i}` }));
    }
    const acks = (await Promise.all(sends)).map(accepted);
    const seqs = acks.map((x) => x.message.seq).sort((x, y) => x - y);
    expect(new Set(seqs).size).toBe(20);
    // Another process's pages are written behind its acknowledgements, within a pass: wait for them.
    let paged = 0;
    while (paged < 21) paged = (await get(procs.b, carol, `/messages/c/${conv}/history`)).body.messages.length as number;
    expect(paged).toBe(21);
    // Carol received all 21 (the first message and 20 more), read none.
    expect((await get(procs.a, carol, '/api/inbox')).body.total).toBe(21);
    expect((await get(procs.b, carol, '/api/inbox')).body.total).toBe(21);
  });

  it('a member who leaves on one process gets nothing more from the other, although it keeps members a minute', async () => {
    const [alice, bob, carol, dave] = await Promise.all([registerUser(procs.a.url), registerUser(procs.a.url), registerUser(procs.b.url), registerUser(procs.a.url)]);
    const conv = await startGroup(alice, [bob.username, carol.username, dave.username]);
    const aliceTab = await connectAs(procs.a.url, alice);
    const carolTab = await connectAs(procs.b.url, carol);
    // Process A reads the members once (a send), and would keep them a minute.
    accepted(await sendRaw(aliceTab, { conversation: conv, content: 'before' }));

    // Carol leaves through process B.
    const leaveAgent = request.agent(procs.b.url);
    const page = await leaveAgent.get(`/messages/c/${conv}`).set('Cookie', carol.cookie);
    const _csrf = /name="_csrf" value="([^"]+)"/.exec(page.text)![1]!;
    const left = await leaveAgent.post(`/messages/c/${conv}/leave`).set('Cookie', carol.cookie).type('form').send({ _csrf });
    expect(left.status).toBe(303);

    const carolHeard = collect(carolTab, 'sendback');
    const bobTab = await connectAs(procs.b.url, bob);
    // The relayed change reaches A within a Redis message: wait on the condition a member observes.
    let members = 4;
    while (members !== 3) {
      const bobGets = nextEvent(bobTab, 'sendback', (p) => p.message.content === `after ${members}`);
      const ack = accepted(await sendRaw(aliceTab, { conversation: conv, content: `after ${members}` }));
      members = ack.group?.members.length ?? 0;
      await bobGets;
    }
    const last = nextEvent(bobTab, 'sendback', (p) => p.message.content === 'final');
    accepted(await sendRaw(aliceTab, { conversation: conv, content: 'final' }));
    await last;
    expect(carolHeard.map((p) => p.message.content)).not.toContain('final');
  });
});
