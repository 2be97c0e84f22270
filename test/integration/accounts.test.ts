import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.ts';
import { connectAs, connectError, emitAck } from '../support/sockets.ts';
import { csrfToken, registerUser, uniqueUsername } from '../support/users.ts';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.close();
});

/** Just the parley.sid pair of a Cookie header. */
function sessionCookieOf(cookieHeader: string): string {
  return cookieHeader.split('; ').find((c) => c.startsWith('parley.sid='))!;
}

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
    // The browser already holds a stored session (here another member's, as a session
    // fixation attack plants one): signing in must not adopt it.
    const [planted, user] = await Promise.all([registerUser(server.url), registerUser(server.url)]);
    const plantedCookie = sessionCookieOf(planted.cookie);
    const form = await request(server.url).get('/login').set('Cookie', plantedCookie);
    const _csrf = /name="_csrf" value="([^"]+)"/.exec(form.text)![1]!;
    const res = await request(server.url)
      .post('/login')
      .set('Cookie', plantedCookie)
      .type('form')
      .send({ username: user.username.toUpperCase(), password: user.password, _csrf });
    expect(res.status).toBe(303);
    const line = (res.headers['set-cookie'] as unknown as string[]).find((c) => c.startsWith('parley.sid='));
    expect(line, 'a new parley.sid').toBeDefined();
    const newCookie = line!.split(';')[0]!;
    expect(newCookie).not.toBe(plantedCookie);
    expect(line).toMatch(/HttpOnly/i);
    expect(line).toMatch(/SameSite=Lax/i);
    expect((await request(server.url).get('/').set('Cookie', newCookie)).text).toContain(user.username);
    // The session id from before sign-in is worth nothing now: not the member, not anyone.
    const withPlanted = await request(server.url).get('/').set('Cookie', plantedCookie);
    expect(withPlanted.text).not.toContain(user.username);
    expect(withPlanted.text).not.toContain('action="/logout"');
    expect((await connectError(await connectAs(server.url, { cookie: plantedCookie }, { wait: false }))).data).toMatchObject({ code: 'signIn' });
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

  it('refuses the signed-out session cookie afterwards, on pages, forms and sockets', async () => {
    const user = await registerUser(server.url);
    const cookie = sessionCookieOf(user.cookie);
    const _csrf = await csrfToken(user.agent, '/');
    expect((await user.agent.post('/logout').type('form').send({ _csrf })).status).toBe(303);
    // A copy of the cookie kept from before (another tab, a thief): the stored session is gone.
    const page = await request(server.url).get('/messages').set('Cookie', cookie);
    expect(page.status).toBe(303);
    expect(page.headers.location).toMatch(/^\/login/);
    expect((await request(server.url).get('/').set('Cookie', cookie)).text).not.toContain(user.username);
    const post = await request(server.url).post('/posts').set('Cookie', cookie).type('form').send({ title: 'after sign-out', body: 'no', _csrf });
    expect(post.status).toBe(403);
    expect((await connectError(await connectAs(server.url, { cookie }, { wait: false }))).data).toMatchObject({ code: 'signIn' });
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
