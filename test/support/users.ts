// Real users signed in through the real forms: a cookie jar per user.
import crypto from 'node:crypto';
import request from 'supertest';

export interface SignedInUser {
  id: string;
  username: string;
  password: string;
  /** The Cookie header value of this user's session. */
  cookie: string;
  agent: ReturnType<typeof request.agent>;
}

/** Reads the CSRF token from a page's form. */
export async function csrfToken(agent: ReturnType<typeof request.agent>, path: string): Promise<string> {
  const page = await agent.get(path);
  const match = /name="_csrf" value="([^"]+)"/.exec(page.text);
  if (!match) throw new Error(`no CSRF token on ${path} (status ${page.status})`);
  return match[1]!;
}

export function uniqueUsername(prefix = 'user'): string {
  return `${prefix}${crypto.randomBytes(3).toString('hex')}`.slice(0, 24);
}

export async function registerUser(baseUrl: string, username = uniqueUsername(), password = 'correct horse battery'): Promise<SignedInUser> {
  const agent = request.agent(baseUrl);
  const _csrf = await csrfToken(agent, '/register');
  const res = await agent.post('/register').type('form').send({ username, password, _csrf });
  if (res.status !== 303) throw new Error(`registration of ${username} failed: ${res.status} ${res.text.slice(0, 500)}`);
  const cookie = (res.headers['set-cookie'] as unknown as string[] | undefined)?.map((c) => c.split(';')[0]).join('; ');
  if (!cookie) throw new Error('registration set no session cookie');
  const { UsernameModel, usernameKey } = await import('../../src/accounts/user-model.ts');
  const entry = await UsernameModel.findById(usernameKey(username)).lean();
  return { id: String(entry!.userId), username, password, cookie, agent };
}
