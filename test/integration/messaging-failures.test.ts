// When storing fails, a send is answered at once with a safe, clear error: never an ack
// for a message that was not stored, never a crash, never internals.
import { describe, expect, it } from 'vitest';
import { useTestServer } from '../support/messaging.ts';
import { collect, connectAs, emitAck } from '../support/sockets.ts';
import { registerUser } from '../support/users.ts';

const running = useTestServer();

describe('with the database gone', () => {
  it('refuses sends and mark-reads with a clear error and delivers nothing', async () => {
    const server = running.current;
    const [alice, bob] = await Promise.all([registerUser(server.url), registerUser(server.url)]);
    const [aliceSocket, bobSocket] = await Promise.all([connectAs(server.url, alice), connectAs(server.url, bob)]);
    const delivered = collect(bobSocket, 'sendback');
    await server.db.connection.close();

    const ack = await emitAck(aliceSocket, 'privatemsg', { to_user: bob.id, content: 'into the void' });
    expect(ack).toEqual({ ok: false, code: 'unavailable', error: 'Messages cannot be stored right now, so nothing was sent. Please try again in a moment.' });
    expect(await emitAck(bobSocket, 'markread', { user: alice.id })).toMatchObject({ ok: false, code: 'unavailable' });
    // Bad input is still answered as bad input, without the database.
    expect(await emitAck(aliceSocket, 'privatemsg', { to_user: bob.id, content: '' })).toMatchObject({ ok: false, code: 'invalid' });
    expect(await emitAck(bobSocket, 'adduser', bob.id)).toBe(true);
    expect(delivered).toEqual([]);
  });
});
