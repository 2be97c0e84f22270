// Two app processes on one database and one Redis, both polling the mail queue and the
// unread-message looks as fast as they can: every mail still arrives exactly once, and a
// member's socket on one process keeps the other from mailing them.
import mongoose from 'mongoose';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectDatabase } from '../../src/db/database.ts';
import { deleteRedisKeys, startAppProcess, TEST_REDIS_URL, uniqueRedisPrefix, type AppProcess } from '../support/app-process.ts';
import { testDatabaseUri } from '../support/database.ts';
import { registerWithEmail } from '../support/mail.ts';
import { startSmtp, type ReceivedMail, type TestSmtp } from '../support/smtp.ts';
import { closeAllSockets, connectAs, emitAck, type ClientSocket } from '../support/sockets.ts';
import { csrfToken, registerUser } from '../support/users.ts';

const databaseUri = testDatabaseUri('mailscale');
const redisPrefix = uniqueRedisPrefix('mailscale');
let smtp: TestSmtp;
let a: AppProcess;
let b: AppProcess;

beforeAll(async () => {
  await connectDatabase(databaseUri);
  smtp = await startSmtp();
  const env = {
    MONGODB_URI: databaseUri,
    REDIS_URL: TEST_REDIS_URL,
    REDIS_PREFIX: redisPrefix,
    SESSION_SECRET: 'mail-scale-test-secret-mail-scale-test-secret',
    REGISTER_RATE: '10000/1m',
    LOGIN_RATE_PER_IP: '10000/1m',
    MESSAGE_RATE: '10000/1m',
    SMTP_URL: smtp.url,
    MAIL_POLL_MS: '50',
    UNREAD_MAIL_DELAY_MS: '800',
    UNREAD_MAIL_INTERVAL_MS: '0',
  };
  [a, b] = await Promise.all([startAppProcess(env), startAppProcess(env)]);
});

afterAll(async () => {
  closeAllSockets();
  const codes = await Promise.all([a.stop(), b.stop()]);
  await smtp.stop();
  await mongoose.disconnect();
  await deleteRedisKeys(redisPrefix);
  expect(codes, `${a.output()}\n${b.output()}`).toEqual([0, 0]);
});

const to = (address: string) => (m: ReceivedMail) => m.to.includes(address);
const isUnread = (m: ReceivedMail) => m.text.includes('/messages/');

describe('mail with two processes', () => {
  it('sends each queued mail once, whichever process was asked', async () => {
    const members = await Promise.all([0, 1, 2, 3, 4, 5].map((i) => registerWithEmail(i % 2 ? b.url : a.url, smtp)));
    await Promise.all(
      members.map(async (member, i) => {
        const agent = request.agent(i % 2 ? a.url : b.url);
        const _csrf = await csrfToken(agent, '/password/forgot');
        expect((await agent.post('/password/forgot').type('form').send({ email: member.email, _csrf })).status).toBe(200);
      }),
    );
    for (const member of members) await smtp.next((m) => to(member.email)(m) && m.text.includes('/password/reset/'));
    // A last mail through each process: both have passed over the queue since.
    for (const app of [a, b]) await registerWithEmail(app.url, smtp);
    for (const member of members) expect(smtp.received.filter((m) => to(member.email)(m) && m.text.includes('/password/reset/'))).toHaveLength(1);
  });

  it('mails each away member once about their unread messages, and never one whose socket is open on the other process', async () => {
    const sender = await registerUser(a.url);
    const sockets: Record<'a' | 'b', ClientSocket> = { a: await connectAs(a.url, sender), b: await connectAs(b.url, sender) };
    const away = await Promise.all([0, 1, 2, 3].map((i) => registerWithEmail(i % 2 ? b.url : a.url, smtp)));
    const present = await registerWithEmail(a.url, smtp);
    await connectAs(a.url, present);
    for (const [i, member] of [...away, present].entries()) {
      for (let n = 0; n < 3; n++) {
        const ack = await emitAck<{ ok: boolean }>(sockets[(i + n) % 2 ? 'b' : 'a'], 'privatemsg', { to_user: member.id, content: `news ${n} for ${member.username}` });
        expect(ack.ok).toBe(true);
      }
    }
    // How many times each of a member's messages was mailed to them. A slow machine may
    // split them over two mails (the delay is short here, and no hourly cap): what must
    // hold is that each is mailed exactly once.
    const timesMailed = (member: (typeof away)[number]) => {
      const texts = smtp.received.filter((m) => to(member.email)(m) && isUnread(m)).map((m) => m.text);
      return [0, 1, 2].map((n) => texts.filter((text) => text.includes(`news ${n} for ${member.username}`)).length);
    };
    for (const member of away) await expect.poll(() => timesMailed(member).every((times) => times > 0), { timeout: 20_000 }).toBe(true);
    // A control member written to last: mailed after every look above is done.
    const control = await registerWithEmail(b.url, smtp);
    await emitAck(sockets.b, 'privatemsg', { to_user: control.id, content: 'control' });
    await smtp.next((m) => to(control.email)(m) && isUnread(m));
    for (const member of away) expect(timesMailed(member)).toEqual([1, 1, 1]);
    expect(smtp.received.filter((m) => to(present.email)(m) && isUnread(m))).toHaveLength(0);
  });
});
