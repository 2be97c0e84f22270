import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.ts';
import { connectAs, emitAck } from '../support/sockets.ts';
import { csrfToken, registerUser, uniqueUsername } from '../support/users.ts';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.close();
});

async function postForm(path: string, fields: Record<string, string>, agent = request.agent(server.url)) {
  const _csrf = await csrfToken(agent, path === '/login' ? '/login' : '/register');
  return agent.post(path).type('form').send({ ...fields, _csrf });
}

describe('registration', () => {
  it('signs the new member in and redirects with 303', async () => {
    const user = await registerUser(server.url);
    const home = await user.agent.get('/');
    expect(home.text).toContain(user.username);
    expect(home.text).toContain('action="/logout"');
  });

  it('refuses a username taken in another case, keeping what was typed', async () => {
    const name = uniqueUsername('Case');
    await registerUser(server.url, name);
    const res = await postForm('/register', { username: name.toUpperCase(), password: 'long enough pw' });
    expect(res.status).toBe(409);
    expect(res.text).toContain('That username is taken');
    expect(res.text).toContain(`value="${name.toUpperCase()}"`);
  });

  it('accepts Chinese usernames', async () => {
    const user = await registerUser(server.url, `小明${Date.now() % 10000}`);
    expect((await user.agent.get('/')).text).toContain(user.username);
  });

  it.each([
    ['a', 'long enough pw', 'A username is 2 to 24 characters long.'],
    ['bad name!', 'long enough pw', 'A username may only contain letters, digits, _ and -.'],
    [uniqueUsername(), 'short', 'A password needs at least 8 characters.'],
  ])('rejects username %j / password %j with a clear message', async (username, password, message) => {
    const res = await postForm('/register', { username, password });
    expect(res.status).toBe(400);
    expect(res.text).toContain(message);
  });

  it('rejects a form without a CSRF token', async () => {
    const res = await request(server.url).post('/register').type('form').send({ username: uniqueUsername(), password: 'long enough pw' });
    expect(res.status).toBe(403);
    expect(res.text).toContain('Your form expired');
  });
});

describe('sign in and out', () => {
  it('signs in with the right password, with a new session id', async () => {
    const user = await registerUser(server.url);
    const agent = request.agent(server.url);
    const before = await agent.get('/login');
    const oldCookie = String(before.headers['set-cookie'] ?? '');
    const res = await postForm('/login', { username: user.username.toUpperCase(), password: user.password }, agent);
    expect(res.status).toBe(303);
    const newCookie = String(res.headers['set-cookie'] ?? '');
    expect(newCookie).toMatch(/parley\.sid=/);
    expect(newCookie.split(';')[0]).not.toBe(oldCookie.split(';')[0]);
    expect(newCookie).toMatch(/HttpOnly/i);
    expect(newCookie).toMatch(/SameSite=Lax/i);
    expect((await agent.get('/')).text).toContain(user.username);
  });

  it('refuses a wrong password with one message for both unknown user and bad password', async () => {
    const user = await registerUser(server.url);
    const wrong = await postForm('/login', { username: user.username, password: 'not the password' });
    const unknown = await postForm('/login', { username: uniqueUsername('ghost'), password: 'not the password' });
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(wrong.text).toContain('Wrong username or password.');
    expect(unknown.text).toContain('Wrong username or password.');
  });

  it('never lets a form field become a query operator', async () => {
    const agent = request.agent(server.url);
    const _csrf = await csrfToken(agent, '/login');
    const res = await agent.post('/login').type('form').send(`username[$ne]=x&password[$ne]=x&_csrf=${encodeURIComponent(_csrf)}`);
    expect(res.status).toBe(400);
    const json = await agent.post('/login').set('X-CSRF-Token', _csrf).send({ username: { $ne: null }, password: { $ne: null } });
    expect(json.status).toBe(400);
  });

  it('signs out', async () => {
    const user = await registerUser(server.url);
    const _csrf = await csrfToken(user.agent, '/');
    const res = await user.agent.post('/logout').type('form').send({ _csrf });
    expect(res.status).toBe(303);
    expect((await user.agent.get('/')).text).not.toContain('action="/logout"');
  });
});

describe('sessions', () => {
  it('gives two tabs opened right after sign-in the same form token, so both forms work', async () => {
    const user = await registerUser(server.url);
    const tokenOf = (html: string) => /name="_csrf" value="([^"]+)"/.exec(html)?.[1];
    const [a, b] = await Promise.all([user.agent.get('/'), user.agent.get('/messages')]);
    expect(tokenOf(a.text)).toBeDefined();
    expect(tokenOf(a.text)).toBe(tokenOf(b.text));
    const res = await user.agent.post('/logout').type('form').send({ _csrf: tokenOf(b.text) });
    expect(res.status).toBe(303);
  });


  it("closes the signed-out browser's sockets at once, and only that browser's", async () => {
    const user = await registerUser(server.url);
    const otherDevice = await postForm('/login', { username: user.username, password: user.password });
    const otherCookie = (otherDevice.headers['set-cookie'] as unknown as string[]).map((c) => c.split(';')[0]).join('; ');
    const here = await connectAs(server.url, user);
    const there = await connectAs(server.url, { cookie: otherCookie });
    const closed = new Promise<string>((resolve) => here.once('disconnect', (reason) => resolve(reason)));

    const _csrf = await csrfToken(user.agent, '/');
    expect((await user.agent.post('/logout').type('form').send({ _csrf })).status).toBe(303);

    expect(await closed).toBe('io server disconnect');
    // The other device's socket still answers.
    expect(await emitAck(there, 'adduser', user.id)).toBe(true);
  });


  it('stops recognising a session once its stored expiry has passed', async () => {
    const user = await registerUser(server.url);
    expect((await user.agent.get('/')).text).toContain('action="/logout"');
    // The store looks sessions up by _id alone (see src/http/session.ts) and must judge expiry itself.
    const { default: mongoose } = await import('mongoose');
    const sessions = mongoose.connection.collection('sessions');
    const sid = decodeURIComponent(/parley\.sid=s%3A([^.;]+)/.exec(user.cookie)?.[1] ?? '');
    expect((await sessions.updateOne({ _id: sid as never }, { $set: { expires: new Date(Date.now() - 1000) } })).matchedCount).toBe(1);
    const home = await user.agent.get('/');
    expect(home.text).not.toContain('action="/logout"');
    expect(home.text).not.toContain(user.username);
  });
});
