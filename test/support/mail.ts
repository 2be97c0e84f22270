// Members with a confirmed e-mail address, confirmed the way a member does it: through
// the link in the mail the test's SMTP server received.
import crypto from 'node:crypto';
import request from 'supertest';
import { csrfToken, uniqueUsername, type SignedInUser } from './users.ts';
import type { ReceivedMail, TestSmtp } from './smtp.ts';

export function uniqueAddress(prefix = 'member'): string {
  return `${prefix}-${crypto.randomBytes(4).toString('hex')}@example.test`;
}

/** The path of the first link in a mail's text that starts with `prefix` (links carry PUBLIC_URL, not the test's port). */
export function linkPath(mail: ReceivedMail, prefix: string): string {
  const match = new RegExp(`https?://[^/\\s]+(${prefix.replace(/\//g, '\\/')}[^\\s>]*)`).exec(mail.text);
  if (!match) throw new Error(`no ${prefix} link in mail "${mail.subject}":\n${mail.text}`);
  return match[1]!;
}

/** Registers with an address, opens the confirmation link, and returns the signed-in member. */
export async function registerWithEmail(baseUrl: string, smtp: TestSmtp, options: { email?: string; locale?: 'en' | 'zh-CN'; username?: string } = {}): Promise<SignedInUser & { email: string }> {
  const email = options.email ?? uniqueAddress();
  const username = options.username ?? uniqueUsername();
  const password = 'correct horse battery';
  const agent = request.agent(baseUrl);
  if (options.locale) await agent.get(`/language/${options.locale}`);
  const _csrf = await csrfToken(agent, '/register');
  const earlier = new Set(smtp.received);
  const res = await agent.post('/register').type('form').send({ username, password, email, _csrf });
  if (res.status !== 303) throw new Error(`registration failed: ${res.status} ${res.text.slice(0, 300)}`);
  const cookie = (res.headers['set-cookie'] as unknown as string[]).map((c) => c.split(';')[0]).join('; ');
  const mail = await smtp.next((m) => !earlier.has(m) && m.to.includes(email) && m.text.includes('/settings/email/confirm/'));
  const confirmed = await agent.get(linkPath(mail, '/settings/email/confirm/'));
  if (confirmed.status !== 303) throw new Error(`confirmation failed: ${confirmed.status}`);
  const { UsernameModel, usernameKey } = await import('../../src/accounts/user-model.ts');
  const entry = await UsernameModel.findById(usernameKey(username)).lean();
  return { id: String(entry!.userId), username, password, cookie, agent, email };
}

/** Waits until `check` holds, looking again every 20 ms (a condition, not a sleep). */
export async function waitFor<T>(check: () => Promise<T | undefined | null | false>, timeoutMs = 15_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
