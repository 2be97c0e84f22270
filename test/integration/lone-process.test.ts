// A process without REDIS_URL is alone: it never asks its adapter to reach other
// processes (the in-memory adapter would print a warning on every write to a member).
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { useTestServer } from '../support/messaging.ts';
import type { TestServer } from '../support/server.ts';
import { connectAs } from '../support/sockets.ts';
import { csrfToken, registerUser } from '../support/users.ts';

const running = useTestServer();
let server: TestServer;
beforeAll(() => {
  server = running.current;
});
afterEach(() => vi.restoreAllMocks());

describe('a lone process', () => {
  it('writes to members and signs out without asking for other processes', async () => {
    const warnings = vi.spyOn(console, 'warn');
    const [me, other] = await Promise.all([registerUser(server.url), registerUser(server.url)]);
    const socket = await connectAs(server.url, me);
    const closed = new Promise((resolve) => socket.once('disconnect', resolve));
    const _csrf = await csrfToken(me.agent, `/users/${other.username}`);
    // A block writes the member's document; sign-out closes the session's sockets.
    expect((await me.agent.post(`/users/${other.username}/block`).type('form').send({ _csrf, back: 'profile' })).status).toBe(303);
    expect((await me.agent.post('/logout').type('form').send({ _csrf })).status).toBe(303);
    await closed;
    expect(warnings.mock.calls.flat().join('\n')).not.toContain('serverSideEmit');
  });
});
