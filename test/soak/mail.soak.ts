// The unread-message mail under churn (`npm run soak`): members keep going away and
// coming back while senders write to them, against a real SMTP server. The books, from
// the members' own comings and goings as the run drove them:
//   - a message whose recipient stayed away from its arrival until well past the delay is
//     mailed, and exactly once;
//   - a message whose recipient was there when it came is never mailed;
//   - no mail goes out while its member has a tab open;
//   - no message is in two mails.
// A mail lists everything unread since the member left, so a message that came shortly
// before another one's mail went out rides along with it, even if its member came back
// within the delay; such messages and those near a boundary may go either way, but
// still never twice. Sized by MAIL_SOAK_MEMBERS (40), MAIL_SOAK_SECONDS (30).
import crypto from 'node:crypto';
import mongoose from 'mongoose';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { connectDatabase } from '../../src/db/database.ts';
import { startAppProcess, type AppProcess } from '../support/app-process.ts';
import { testDatabaseUri } from '../support/database.ts';
import { registerWithEmail } from '../support/mail.ts';
import { startSmtp, type TestSmtp } from '../support/smtp.ts';
import { closeAllSockets, connectAs, emitAck, type ClientSocket } from '../support/sockets.ts';
import { registerUser, type SignedInUser } from '../support/users.ts';

const MEMBERS = Number(process.env.MAIL_SOAK_MEMBERS ?? 40);
const SENDERS = 8;
const SECONDS = Number(process.env.MAIL_SOAK_SECONDS ?? 30);
const DELAY_MS = 3000;
const POLL_MS = 200;
/** How far the run's clock and the app's idea of "a socket was open" may be apart. */
const MARGIN_MS = 1000;

let smtp: TestSmtp;
let app: AppProcess;

const databaseUri = testDatabaseUri('mailsoak');

beforeAll(async () => {
  await connectDatabase(databaseUri);
  smtp = await startSmtp();
  app = await startAppProcess({
    MONGODB_URI: databaseUri,
    SESSION_SECRET: 'mail-soak-secret-mail-soak-secret',
    RATE_LIMITS: 'off',
    SMTP_URL: smtp.url,
    MAIL_POLL_MS: String(POLL_MS),
    UNREAD_MAIL_DELAY_MS: String(DELAY_MS),
    UNREAD_MAIL_INTERVAL_MS: '0',
  });
});

afterAll(async () => {
  closeAllSockets();
  const code = await app?.stop();
  await smtp?.stop();
  await mongoose.disconnect();
  expect(code).toBe(0);
});

interface Away {
  member: SignedInUser & { email: string };
  /** [from, to) spans with a socket open, in the run's clock; `to` undefined while open. */
  present: { from: number; to?: number }[];
  socket?: ClientSocket;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const between = (low: number, high: number) => low + Math.random() * (high - low);

it('mails every message left unread past the delay exactly once, and none the member was there for', async () => {
  const members: Away[] = [];
  for (let i = 0; i < MEMBERS; i++) members.push({ member: await registerWithEmail(app.url, smtp), present: [] });
  const senders: { user: SignedInUser; socket: ClientSocket; lastTo: Map<string, number> }[] = [];
  for (let i = 0; i < SENDERS; i++) {
    const user = await registerUser(app.url);
    senders.push({ user, socket: await connectAs(app.url, user), lastTo: new Map() });
  }
  const sent: { token: string; to: Away; at: number }[] = [];
  const end = Date.now() + SECONDS * 1000;

  // Each member comes and goes: away 2–10 s, there 2–6 s.
  const churn = members.map(async (away) => {
    while (Date.now() < end) {
      await sleep(between(2000, 10_000));
      if (Date.now() >= end) break;
      const span: { from: number; to?: number } = { from: Date.now() };
      away.socket = await connectAs(app.url, away.member);
      span.from = Date.now();
      away.present.push(span);
      await sleep(between(2000, 6000));
      // Counted as there until the server has surely seen the socket go.
      away.socket.disconnect();
      away.socket = undefined;
      span.to = Date.now();
    }
  });
  // Each sender writes every 300–900 ms to a member it has not written to within the delay
  // (so that a mail quotes each conversation's messages whole: it quotes up to three).
  const writing = senders.map(async (sender) => {
    while (Date.now() < end) {
      await sleep(between(300, 900));
      const fresh = members.filter((m) => (sender.lastTo.get(m.member.id) ?? 0) + DELAY_MS + 2000 < Date.now());
      const to = fresh[Math.floor(Math.random() * fresh.length)];
      if (!to) continue;
      const token = `soak-${crypto.randomBytes(5).toString('hex')}`;
      const ack = await emitAck<{ ok: boolean; message?: { createdAt: string } }>(sender.socket, 'privatemsg', { to_user: to.member.id, content: `${token} says hello` });
      if (!ack.ok || !ack.message) throw new Error(`a send failed: ${JSON.stringify(ack)}`);
      sender.lastTo.set(to.member.id, Date.now());
      sent.push({ token, to, at: Date.parse(ack.message.createdAt) });
    }
  });
  await Promise.all([...churn, ...writing]);

  // Classify each message by where its recipient was.
  const mustMail: typeof sent = [];
  const mustNot: typeof sent = [];
  for (const message of sent) {
    const { present } = message.to;
    const thereAtArrival = present.some((s) => s.from <= message.at - MARGIN_MS && (s.to ?? Infinity) >= message.at + MARGIN_MS);
    const nearArrival = present.some((s) => s.from <= message.at + MARGIN_MS && (s.to ?? Infinity) >= message.at - MARGIN_MS);
    const back = present.find((s) => s.from > message.at)?.from;
    if (thereAtArrival) mustNot.push(message);
    else if (nearArrival) continue;
    else if (back === undefined || back > message.at + DELAY_MS + POLL_MS + MARGIN_MS) mustMail.push(message);
  }

  // Everyone is away now: wait for every mail that must come.
  const waitUntil = Date.now() + DELAY_MS * 4 + 20_000;
  for (const message of mustMail) {
    // One that never comes is reported below, with the others.
    await smtp.next((m) => m.to.includes(message.to.member.email) && m.text.includes(message.token), Math.max(1, waitUntil - Date.now())).catch(() => undefined);
  }
  // A control member written to last: once it is mailed, every earlier look is done.
  const control = await registerWithEmail(app.url, smtp);
  await emitAck(senders[0]!.socket, 'privatemsg', { to_user: control.id, content: 'control' });
  await smtp.next((m) => m.to.includes(control.email) && m.text.includes('control'), DELAY_MS * 4 + 20_000);

  const mails = smtp.received.filter((m) => m.text.includes('/messages/'));
  const timesMailed = (token: string) => mails.filter((m) => m.text.includes(token)).length;
  const twice = sent.filter((m) => timesMailed(m.token) > 1);
  const missing = mustMail.filter((m) => timesMailed(m.token) !== 1);
  const wrongly = mustNot.filter((m) => timesMailed(m.token) > 0);
  const whileThere = mails.filter((mail) => {
    const member = members.find((m) => mail.to.includes(m.member.email));
    return member?.present.some((s) => s.from <= mail.receivedAt - MARGIN_MS && (s.to ?? Infinity) >= mail.receivedAt);
  });
  console.log(
    `mail soak: ${sent.length} messages to ${MEMBERS} members in ${SECONDS} s; ${mustMail.length} had to be mailed, ${mustNot.length} must not be, ` +
      `${sent.length - mustMail.length - mustNot.length} either way; ${mails.length} unread mails received`,
  );
  const explain = (list: typeof sent) => list.map((m) => ({ token: m.token, at: m.at, present: m.to.present, mailsToMember: mails.filter((x) => x.to.includes(m.to.member.email)).length }));
  expect(explain(twice)).toEqual([]);
  expect(explain(missing)).toEqual([]);
  expect(explain(wrongly)).toEqual([]);
  expect(whileThere.map((m) => ({ to: m.to, at: m.receivedAt }))).toEqual([]);
  expect(mustMail.length).toBeGreaterThan(0);
  expect(mustNot.length).toBeGreaterThan(0);
});
