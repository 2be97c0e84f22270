// The per-sender message rate limit (its own server: the limit is set low here).
import { describe, expect, it } from 'vitest';
import { MessageModel } from '../../src/messaging/models.ts';
import { accepted as okAck, sendRaw as send, useTestServer } from '../support/messaging.ts';
import { connectAs } from '../support/sockets.ts';
import { registerUser } from '../support/users.ts';

const server = useTestServer({ MESSAGE_RATE: '3/60s' });

describe('rate limiting', () => {
  it('refuses the message over the limit with how long to wait, and stores nothing', async () => {
    const limited = server.current;
    const [kim, lee] = await Promise.all([registerUser(limited.url), registerUser(limited.url)]);
    const socket = await connectAs(limited.url, kim);
    for (let i = 0; i < 3; i++) okAck(await send(socket, { to_user: lee.id, content: `message ${i}` }));
    const ack = await send(socket, { to_user: lee.id, content: 'one too many' });
    if (ack.ok) throw new Error('the fourth message was accepted');
    expect(ack.code).toBe('rateLimited');
    expect(ack.retryAfter).toBeGreaterThan(0);
    expect(ack.retryAfter).toBeLessThanOrEqual(60);
    expect(ack.error).toBe(`You are sending messages too quickly. Please wait ${ack.retryAfter} s and try again.`);
    expect(await MessageModel.countDocuments({ from: kim.id })).toBe(3);
    // The limit is per sender: someone else can still write.
    const leeSocket = await connectAs(limited.url, lee);
    okAck(await send(leeSocket, { to_user: kim.id, content: 'my turn' }));
  });
});
