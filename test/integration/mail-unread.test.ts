// Unread-message mail with real sockets and a real SMTP server: sent once, after the
// delay, only to members who were away the whole time, only for what is still unread.
// "No mail" is proven by a later mail: members are looked at in order of when they are
// due, so once a control member's mail, due after, has arrived, the earlier look is done.
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { linkPath, registerWithEmail } from '../support/mail.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { rawHeader, startSmtp, type ReceivedMail, type TestSmtp } from '../support/smtp.ts';
import { connectAs, emitAck, type ClientSocket } from '../support/sockets.ts';
import { csrfToken, registerUser, type SignedInUser } from '../support/users.ts';

let smtp: TestSmtp;
let server: TestServer;
const INTERVAL_MS = 3000;

beforeAll(async () => {
  smtp = await startSmtp();
  server = await startTestServer({
    SMTP_URL: smtp.url,
    MAIL_POLL_MS: '100',
    UNREAD_MAIL_DELAY_MS: '600',
    UNREAD_MAIL_INTERVAL_MS: String(INTERVAL_MS),
  });
});
afterAll(async () => {
  await server?.close();
  await smtp?.stop();
});

let sender: SignedInUser;
let senderSocket: ClientSocket;
beforeAll(async () => {
  sender = await registerUser(server.url);
  senderSocket = await connectAs(server.url, sender);
});

async function send(to: { id: string }, content: string) {
  const ack = await emitAck<{ ok: boolean; message: { seq: number } }>(senderSocket, 'privatemsg', { to_user: to.id, content });
  expect(ack.ok).toBe(true);
  return ack.message;
}

const unreadMailFor = (member: { email: string }) => (m: ReceivedMail) => m.to.includes(member.email) && m.subject.length > 0 && m.text.includes('/messages/');

/** A member who gets a mail due after everything sent so far: when it arrives, every earlier look is done. */
async function controlMail() {
  const control = await registerWithEmail(server.url, smtp);
  await send(control, 'control');
  return smtp.next(unreadMailFor(control));
}

describe('unread-message mail', () => {
  it('lists who wrote and the first lines, escaped, in the member’s language, with links and one-click unsubscribe', async () => {
    const member = await registerWithEmail(server.url, smtp, { locale: 'zh-CN' });
    await send(member, '<b>第一行</b>\nsecond line\nthird line\nfourth line never quoted');
    await send(member, 'and & another');
    const mail = await smtp.next(unreadMailFor(member));
    expect(mail.subject).toBe('你在 Parley 有未读私信');
    expect(mail.html).toContain('&lt;b&gt;第一行&lt;/b&gt;');
    expect(mail.html).not.toContain('<b>第一行');
    expect(mail.text).toContain('<b>第一行</b>');
    expect(mail.text).not.toContain('fourth line never quoted');
    expect(mail.text).toContain('and & another');
    expect(mail.text).toContain(sender.username);
    expect(linkPath(mail, '/messages/')).toBe(`/messages/${encodeURIComponent(sender.username)}`);
    expect(rawHeader(mail, 'List-Unsubscribe-Post')).toBe('List-Unsubscribe=One-Click');
    expect(rawHeader(mail, 'List-Unsubscribe')).toMatch(/^<https?:\/\/[^>]+\/mail\/unsubscribe\/[^>]+>$/);
    expect(smtp.received.filter(unreadMailFor(member))).toHaveLength(1);
  });

  it('mails nothing for messages read before the delay ends', async () => {
    const member = await registerWithEmail(server.url, smtp);
    const message = await send(member, 'read at once');
    // Read from the conversation page's form (no socket).
    const path = `/messages/${encodeURIComponent(sender.username)}`;
    const _csrf = await csrfToken(member.agent, path);
    expect((await member.agent.post(`${path}/read`).type('form').send({ upTo: String(message.seq), _csrf })).status).toBe(303);
    await controlMail();
    expect(smtp.received.filter(unreadMailFor(member))).toHaveLength(0);
  });

  it('mails nothing while a socket of the member is open, nor for what came while one was', async () => {
    const member = await registerWithEmail(server.url, smtp);
    const tab = await connectAs(server.url, member);
    await send(member, 'seen live');
    await controlMail();
    tab.disconnect();
    await controlMail();
    expect(smtp.received.filter(unreadMailFor(member))).toHaveLength(0);
  });

  it('never mails a message twice, and at most once per interval', async () => {
    const member = await registerWithEmail(server.url, smtp);
    await send(member, 'first news');
    const first = await smtp.next(unreadMailFor(member));
    const firstAt = Date.now();
    expect(first.text).toContain('first news');
    await send(member, 'second news');
    const second = await smtp.next((m) => unreadMailFor(member)(m) && m !== first, INTERVAL_MS + 10_000);
    expect(Date.now() - firstAt).toBeGreaterThanOrEqual(INTERVAL_MS - 500);
    expect(second.text).toContain('second news');
    expect(second.text).not.toContain('first news');
    await controlMail();
    expect(smtp.received.filter(unreadMailFor(member))).toHaveLength(2);
  });

  it('stops after a one-click unsubscribe (no sign-in), and starts again from settings', async () => {
    const member = await registerWithEmail(server.url, smtp);
    await send(member, 'before unsubscribing');
    const mail = await smtp.next(unreadMailFor(member));
    const link = rawHeader(mail, 'List-Unsubscribe')!.slice(1, -1);
    const path = new URL(link).pathname;
    // A forged signature does nothing.
    expect((await request(server.url).post(path.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A'))).type('form').send('List-Unsubscribe=One-Click')).status).toBe(404);
    // What a mail client does (RFC 8058): a POST with no cookie and no CSRF token.
    const res = await request(server.url).post(path).type('form').send('List-Unsubscribe=One-Click');
    expect(res.status).toBe(200);
    expect(res.headers['set-cookie']).toBeUndefined();
    await send(member, 'after unsubscribing');
    await controlMail();
    expect(smtp.received.filter(unreadMailFor(member))).toHaveLength(1);

    const _csrf = await csrfToken(member.agent, '/settings');
    expect((await member.agent.get('/settings')).text).not.toMatch(/name="unreadMail" value="on" checked/);
    await member.agent.post('/settings/notifications').type('form').send({ unreadMail: 'on', _csrf });
    await send(member, 'subscribed again');
    const again = await smtp.next((m) => unreadMailFor(member)(m) && m.text.includes('subscribed again'), INTERVAL_MS + 10_000);
    expect(again.text).not.toContain('before unsubscribing');
  });
});
