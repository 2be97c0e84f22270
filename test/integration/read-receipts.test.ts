// Read receipts say only what is true: a reader cannot mark as "Seen" messages that
// were never sent to them.
import { beforeAll, describe, expect, it } from 'vitest';
import type { MarkReadAck } from '../../src/realtime/events.ts';
import { sendTo as send, useTestServer } from '../support/messaging.ts';
import type { TestServer } from '../support/server.ts';
import { connectAs, emitAck, nextEvent } from '../support/sockets.ts';
import { registerUser } from '../support/users.ts';

const running = useTestServer();
let server: TestServer;
beforeAll(() => {
  server = running.current;
});

describe('read receipts', () => {
  it('cap a forged upTo at the last message the reader received, so later messages are not shown as seen', async () => {
    const [alice, bob] = await Promise.all([registerUser(server.url), registerUser(server.url)]);
    const [aliceSocket, bobSocket] = await Promise.all([connectAs(server.url, alice), connectAs(server.url, bob)]);
    const first = await send(aliceSocket, bob, 'one');
    const receipt = nextEvent(aliceSocket, 'read');
    const ack = await emitAck<MarkReadAck>(bobSocket, 'markread', { user: alice.id, upTo: first.message.seq + 1000 });
    expect(ack).toMatchObject({ ok: true, total: 0, count: 0 });
    expect(await receipt).toEqual({ user: bob.id, upTo: first.message.seq });

    const later = await send(aliceSocket, bob, 'two');
    const history = await alice.agent.get(`/messages/${encodeURIComponent(bob.username)}/history`);
    expect(history.body.readUpTo).toBe(first.message.seq);
    expect(history.body.readUpTo).toBeLessThan(later.message.seq);
  });
});
