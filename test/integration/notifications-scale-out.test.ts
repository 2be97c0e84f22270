// Two app processes on one database and one Redis: a member's tabs on either process hear
// their notification count change, whichever process wrote the notification.
import request from 'supertest';
import { beforeAll, describe, expect, it } from 'vitest';
import { useTwoProcesses, type AppProcess } from '../support/app-process.ts';
import { createPost, reply } from '../support/forum.ts';
import { connectAs, nextEvent } from '../support/sockets.ts';
import { registerUser, uniqueUsername } from '../support/users.ts';

const processes = useTwoProcesses('notify_scale', {
  SESSION_SECRET: 'notify-scale-out-secret-notify-scale-out-secret',
  REGISTER_RATE: '10000/1m',
  LOGIN_RATE_PER_IP: '10000/1m',
  POST_RATE: '10000/1m',
  // Copies kept for a minute: the count must reach the other process by other means.
  READ_CACHE_MS: '60000',
});
let a: AppProcess;
let b: AppProcess;
beforeAll(() => {
  ({ a, b } = processes);
});

describe('notifications across two processes', () => {
  it("reach the member's tabs on both processes when the reply is written through either", async () => {
    const author = await registerUser(a.url, uniqueUsername('author'));
    const replier = await registerUser(b.url, uniqueUsername('replier'));
    const postId = await createPost(author, 'Across processes');
    const [onA, onB] = await Promise.all([connectAs(a.url, author), connectAs(b.url, author)]);

    const heard = [nextEvent(onA, 'notifications', (p) => p.unread === 1), nextEvent(onB, 'notifications', (p) => p.unread === 1)];
    // The replier's session works on either process; the reply goes through B.
    await reply(replier, postId, `Hello @${author.username}`);
    expect((await Promise.all(heard)).map((p) => p.unread)).toEqual([1, 1]);

    // Reading them through A clears the bell of the tab on B.
    const cleared = nextEvent(onB, 'notifications', (p) => p.unread === 0);
    const page = await request(a.url).get('/notifications').set('Cookie', author.cookie);
    expect(page.text).toContain(`${replier.username} replied to “Across processes”`);
    expect((await cleared).unread).toBe(0);
  });
});
