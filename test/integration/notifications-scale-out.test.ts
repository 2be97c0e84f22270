// Two app processes on one database and one Redis: a member's tabs on either process hear
// their notification count change, whichever process wrote the notification.
import mongoose from 'mongoose';
import request from 'supertest';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { connectDatabase } from '../../src/db/database.ts';
import { deleteRedisKeys, startAppProcess, TEST_REDIS_URL, uniqueRedisPrefix, type AppProcess } from '../support/app-process.ts';
import { testDatabaseUri } from '../support/database.ts';
import { createPost, reply } from '../support/forum.ts';
import { closeAllSockets, connectAs, nextEvent } from '../support/sockets.ts';
import { registerUser, uniqueUsername } from '../support/users.ts';

const databaseUri = testDatabaseUri('notify_scale');
const redisPrefix = uniqueRedisPrefix('notify');
let a: AppProcess;
let b: AppProcess;

beforeAll(async () => {
  await connectDatabase(databaseUri);
  const env = {
    MONGODB_URI: databaseUri,
    REDIS_URL: TEST_REDIS_URL,
    REDIS_PREFIX: redisPrefix,
    SESSION_SECRET: 'notify-scale-out-secret-notify-scale-out-secret',
    REGISTER_RATE: '10000/1m',
    LOGIN_RATE_PER_IP: '10000/1m',
    POST_RATE: '10000/1m',
    // Copies kept for a minute: the count must reach the other process by other means.
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
  expect(codes, `${a.output()}\n${b.output()}`).toEqual([0, 0]);
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
