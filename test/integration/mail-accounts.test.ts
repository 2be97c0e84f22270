// Mail through a real SMTP server, password reset, e-mail addresses, settings.
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MailJobModel } from '../../src/mail/models.ts';
import { createToken, MailTokenModel, peekToken, sweepExpiredTokens } from '../../src/settings/tokens.ts';
import { linkPath, registerWithEmail, uniqueAddress, waitFor } from '../support/mail.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { startSmtp, type TestSmtp } from '../support/smtp.ts';
import { connectAs, emitAck } from '../support/sockets.ts';
import { csrfToken, registerUser } from '../support/users.ts';
import { testDatabaseUri } from '../support/database.ts';

let smtp: TestSmtp;
let server: TestServer;
const databaseUri = testDatabaseUri('mail');
const mailEnv = () => ({ LOG_LEVEL: process.env.TEST_LOG ?? 'silent', MONGODB_URI: databaseUri, SMTP_URL: smtp.url, MAIL_POLL_MS: '100', MAIL_RETRY_BASE_MS: '100', MAIL_RETRY_MAX_MS: '400', SMTP_TIMEOUT_MS: '2000' });

beforeAll(async () => {
  smtp = await startSmtp();
  server = await startTestServer(mailEnv());
});
afterAll(async () => {
  await server?.close();
  await smtp?.stop();
});

async function askForReset(email: string, agent = request.agent(server.url)) {
  const _csrf = await csrfToken(agent, '/password/forgot');
  return agent.post('/password/forgot').type('form').send({ email, _csrf });
}

describe('e-mail address', () => {
  it('is the member’s only after the link mailed to it is opened, and other members never see it', async () => {
    const member = await registerWithEmail(server.url, smtp);
    const settings = await member.agent.get('/settings');
    expect(settings.status).toBe(200);
    expect(settings.text).toContain(member.email);
    const stranger = await registerUser(server.url);
    const profile = await stranger.agent.get(`/users/${encodeURIComponent(member.username)}`);
    expect(profile.status).toBe(200);
    expect(profile.text).not.toContain(member.email);
  });

  it('changes only through a confirmation link, which works once', async () => {
    const member = await registerWithEmail(server.url, smtp);
    const next = uniqueAddress('changed');
    const _csrf = await csrfToken(member.agent, '/settings');
    expect((await member.agent.post('/settings/email').type('form').send({ email: next, _csrf })).status).toBe(303);
    expect((await member.agent.get('/settings')).text).not.toContain(next);
    const mail = await smtp.next((m) => m.to.includes(next));
    const link = linkPath(mail, '/settings/email/confirm/');
    await member.agent.get(link);
    const settings = (await member.agent.get('/settings')).text;
    expect(settings).toContain(next);
    expect(settings).not.toContain(member.email);
    // The old address now finds no one; the link does nothing a second time.
    expect((await request(server.url).get(link)).status).toBe(404);
  });

  it('refuses an address that is not one, keeping what was typed', async () => {
    const member = await registerUser(server.url);
    const _csrf = await csrfToken(member.agent, '/settings');
    const res = await member.agent.post('/settings/email').type('form').send({ email: 'not an <address>', _csrf });
    expect(res.status).toBe(400);
    expect(res.text).toContain('Please enter a valid e-mail address.');
    expect(res.text).toContain('value="not an &lt;address&gt;"');
  });
});

describe('password reset', () => {
  it('gives the same answer whether or not the address is anyone’s, and mails only the member', async () => {
    const member = await registerWithEmail(server.url, smtp);
    const nobody = uniqueAddress('nobody');
    const [known, unknown] = [await askForReset(member.email), await askForReset(nobody)];
    expect(known.status).toBe(200);
    expect(unknown.status).toBe(200);
    const strip = (html: string, email: string) => html.replace(email, 'ADDRESS').replace(/name="_csrf" value="[^"]*"/g, '');
    expect(strip(known.text, member.email)).toBe(strip(unknown.text, nobody));
    const mail = await smtp.next((m) => m.to.includes(member.email) && m.text.includes('/password/reset/'));
    expect(mail.subject).toBe('Choose a new Parley password');
    // A later mail to this server proves the unknown address's turn has passed without one.
    const later = await registerWithEmail(server.url, smtp);
    await askForReset(later.email);
    await smtp.next((m) => m.to.includes(later.email) && m.text.includes('/password/reset/'));
    expect(smtp.received.some((m) => m.to.includes(nobody))).toBe(false);
  });

  it('stores only a hash of the token, works once, and signs out every other session and socket', async () => {
    const member = await registerWithEmail(server.url, smtp);
    const socket = await connectAs(server.url, member);
    const disconnected = new Promise<string>((resolve) => socket.once('disconnect', (reason) => resolve(reason)));
    await askForReset(member.email);
    const mail = await smtp.next((m) => m.to.includes(member.email) && m.text.includes('/password/reset/'));
    const link = linkPath(mail, '/password/reset/');
    const token = link.split('/').pop()!;
    expect(await MailTokenModel.countDocuments({ _id: token })).toBe(0);
    expect(JSON.stringify(await MailTokenModel.find().lean())).not.toContain(token);

    const browser = request.agent(server.url);
    const form = await browser.get(link);
    expect(form.status).toBe(200);
    expect(form.headers['referrer-policy']).toBe('no-referrer');
    const _csrf = /name="_csrf" value="([^"]+)"/.exec(form.text)![1]!;
    const done = await browser.post(link).type('form').send({ password: 'a brand new secret', _csrf });
    expect(done.status).toBe(303);
    expect((await browser.get('/')).text).toContain(member.username);

    expect(await disconnected).toBe('io server disconnect');
    // The old session is signed out; its socket cannot come back.
    expect((await member.agent.get('/settings')).status).toBe(303);
    await expect(connectAs(server.url, member)).rejects.toThrow();
    // The link is used up.
    expect((await request.agent(server.url).get(link)).status).toBe(404);
    const again = request.agent(server.url);
    const token2 = await csrfToken(again, '/password/forgot');
    expect((await again.post(link).type('form').send({ password: 'yet another secret', _csrf: token2 })).status).toBe(404);
    // The new password signs in.
    const login = request.agent(server.url);
    const loginCsrf = await csrfToken(login, '/login');
    expect((await login.post('/login').type('form').send({ username: member.username, password: 'a brand new secret', _csrf: loginCsrf })).status).toBe(303);
  });

  it('sweeps links past their hour, and keeps live ones', async () => {
    const member = await registerUser(server.url);
    const live = await createToken({ purpose: 'reset', userId: member.id, authVersion: 0 }, 60_000);
    const dead = await createToken({ purpose: 'reset', userId: member.id, authVersion: 0 }, 1);
    await waitFor(async () => (await peekToken(dead, 'reset')) === null);
    expect(await sweepExpiredTokens()).toBeGreaterThanOrEqual(1);
    expect(await MailTokenModel.countDocuments({ userId: member.id })).toBe(1);
    expect(await peekToken(live, 'reset')).toMatchObject({ userId: member.id });
  });

  it('is rate-limited per address', async () => {
    const address = uniqueAddress('flood');
    const answers = [];
    for (let i = 0; i < 4; i++) answers.push((await askForReset(address)).status);
    expect(answers).toEqual([200, 200, 200, 429]);
  });

  it('answers a dead or malformed link with a clear page', async () => {
    for (const token of ['x'.repeat(43), 'short', '%00%01']) {
      const res = await request(server.url).get(`/password/reset/${token}`);
      expect(res.status).toBe(404);
      expect(res.text).toContain('This password reset link has expired or has already been used.');
    }
  });
});

describe('settings', () => {
  it('changing the password signs out the member’s other sessions and sockets, not this one', async () => {
    const member = await registerUser(server.url);
    // A second browser of the same member.
    const second = request.agent(server.url);
    const loginCsrf = await csrfToken(second, '/login');
    const signedIn = await second.post('/login').type('form').send({ username: member.username, password: member.password, _csrf: loginCsrf });
    const secondCookie = (signedIn.headers['set-cookie'] as unknown as string[]).map((c) => c.split(';')[0]).join('; ');
    const secondSocket = await connectAs(server.url, { cookie: secondCookie });
    const gone = new Promise<string>((resolve) => secondSocket.once('disconnect', (reason) => resolve(reason)));

    const _csrf = await csrfToken(member.agent, '/settings');
    const wrong = await member.agent.post('/settings/password').type('form').send({ current: 'not my password', password: 'another long one', _csrf });
    expect(wrong.status).toBe(403);
    const res = await member.agent.post('/settings/password').type('form').send({ current: member.password, password: 'another long one', _csrf });
    expect(res.status).toBe(303);
    expect(await gone).toBe('io server disconnect');
    expect((await second.get('/settings')).status).toBe(303);
    const page = await member.agent.get('/settings');
    expect(page.status).toBe(200);
    expect(page.text).toContain('Your password is changed.');
  });

  it('keeps the language for the member’s mails', async () => {
    const member = await registerWithEmail(server.url, smtp);
    const _csrf = await csrfToken(member.agent, '/settings');
    expect((await member.agent.post('/settings/language').type('form').send({ locale: 'zh-CN', _csrf })).status).toBe(303);
    expect((await member.agent.get('/settings')).text).toContain('设置');
    await askForReset(member.email);
    const mail = await smtp.next((m) => m.to.includes(member.email) && m.text.includes('/password/reset/'));
    expect(mail.subject).toBe('设置新的 Parley 密码');
    const bad = await member.agent.post('/settings/language').type('form').send({ locale: 'xx', _csrf });
    expect(bad.status).toBe(400);
  });
});

describe('the mail queue', () => {
  it('loses nothing while the SMTP server is stopped, nor across a restart of the app, and sends once', async () => {
    const member = await registerWithEmail(server.url, smtp);
    await smtp.stop();
    await askForReset(member.email);
    // It was tried and failed, and waits for its retry.
    await waitFor(async () => (await MailJobModel.findOne({ to: member.email, kind: 'reset' }).lean())?.attempts);
    // Pages (and sends) do not wait on the dead server.
    expect((await member.agent.get('/settings')).status).toBe(200);
    // The process goes away with the mail still queued; a new one on the same database picks it up.
    await server.close();
    server = await startTestServer(mailEnv());
    await smtp.start();
    await smtp.next((m) => m.to.includes(member.email) && m.text.includes('/password/reset/'));
    await waitFor(async () => (await MailJobModel.countDocuments({ to: member.email })) === 0);
    expect(smtp.received.filter((m) => m.to.includes(member.email) && m.text.includes('/password/reset/'))).toHaveLength(1);
  });
});

describe('deleting the account', () => {
  it('signs the member out everywhere and frees their address, while what they wrote to others stays', async () => {
    const leaving = await registerWithEmail(server.url, smtp);
    const friend = await registerUser(server.url);
    const leavingSocket = await connectAs(server.url, leaving);
    const sent = await emitAck<{ ok: boolean }>(leavingSocket, 'privatemsg', { to_user: friend.id, content: 'a last word before I go' });
    expect(sent.ok).toBe(true);
    const closed = new Promise<string>((resolve) => leavingSocket.once('disconnect', (reason) => resolve(reason)));

    const _csrf = await csrfToken(leaving.agent, '/settings');
    expect((await leaving.agent.post('/settings/delete').type('form').send({ password: 'wrong one', _csrf })).status).toBe(403);
    const res = await leaving.agent.post('/settings/delete').type('form').send({ password: leaving.password, _csrf });
    expect(res.status).toBe(303);
    expect(await closed).toBe('io server disconnect');
    expect((await leaving.agent.get('/')).text).toContain('Your account has been deleted.');
    expect((await leaving.agent.get('/settings')).status).toBe(303);

    // Nobody signs in as them any more, with the old password or any other.
    const login = request.agent(server.url);
    const loginCsrf = await csrfToken(login, '/login');
    expect((await login.post('/login').type('form').send({ username: leaving.username, password: leaving.password, _csrf: loginCsrf })).status).toBe(401);

    // The friend still reads the message, sees "deleted member", and cannot write to it.
    const conversation = await friend.agent.get(`/messages/${encodeURIComponent(leaving.username)}`);
    expect(conversation.text).toContain('a last word before I go');
    expect((await friend.agent.get(`/users/${encodeURIComponent(leaving.username)}`)).text).toContain('deleted member');
    const friendSocket = await connectAs(server.url, friend);
    expect(await emitAck<{ ok: boolean }>(friendSocket, 'privatemsg', { to_user: leaving.id, content: 'hello?' })).toMatchObject({ ok: false });

    // The address is free: a reset for it mails no one, and someone else may take it.
    await askForReset(leaving.email);
    const newcomer = await registerWithEmail(server.url, smtp, { email: leaving.email });
    expect((await newcomer.agent.get('/settings')).text).toContain(leaving.email);
    expect(smtp.received.filter((m) => m.to.includes(leaving.email) && m.text.includes('/password/reset/'))).toHaveLength(0);
  });
});
