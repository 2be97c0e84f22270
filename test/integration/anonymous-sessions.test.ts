// Visitors who are not signed in cost no stored session: a loop of cookieless requests
// to the sign-in and registration forms cannot fill the session store. Their forms are
// still protected (a signed double-submit token, src/http/csrf.ts).
import mongoose from 'mongoose';
import request from 'supertest';
import { beforeAll, describe, expect, it } from 'vitest';
import { useTestServer } from '../support/server.ts';
import type { TestServer } from '../support/server.ts';
import { csrfToken, registerUser } from '../support/users.ts';

const running = useTestServer();
let server: TestServer;
beforeAll(() => {
  server = running.current;
});

const storedSessions = () => mongoose.connection.collection('sessions').countDocuments();
const setCookies = (res: request.Response) => (res.headers['set-cookie'] as unknown as string[] | undefined) ?? [];

describe('anonymous visitors', () => {
  it('store no session, however many cookieless visits to the forms', async () => {
    const before = await storedSessions();
    for (let i = 0; i < 10; i++) {
      for (const path of ['/login', '/register', '/']) {
        const res = await request(server.url).get(path);
        expect(res.status).toBe(200);
        expect(setCookies(res).some((c) => c.startsWith('parley.sid='))).toBe(false);
      }
    }
    // A failed sign-in stores nothing either.
    const agent = request.agent(server.url);
    const _csrf = await csrfToken(agent, '/login');
    expect((await agent.post('/login').type('form').send({ username: 'nobody-here', password: 'wrong password', _csrf })).status).toBe(401);
    expect(await storedSessions()).toBe(before);
  });

  it('can sign in and register with the form\u2019s token, and a session is stored only then', async () => {
    const before = await storedSessions();
    const member = await registerUser(server.url);
    expect(await storedSessions()).toBe(before + 1);
    const browser = request.agent(server.url);
    const _csrf = await csrfToken(browser, '/login');
    expect((await browser.post('/login').type('form').send({ username: member.username, password: member.password, _csrf })).status).toBe(303);
    expect(await storedSessions()).toBe(before + 2);
  });

  it('refuse a form without a token, with another visitor\u2019s token, or with a token and no cookie', async () => {
    const member = await registerUser(server.url);
    const mine = request.agent(server.url);
    const theirs = request.agent(server.url);
    await csrfToken(mine, '/login');
    const theirToken = await csrfToken(theirs, '/login');
    const form = { username: member.username, password: member.password };
    expect((await mine.post('/login').type('form').send(form)).status).toBe(403);
    expect((await mine.post('/login').type('form').send({ ...form, _csrf: theirToken })).status).toBe(403);
    expect((await request(server.url).post('/login').type('form').send({ ...form, _csrf: theirToken })).status).toBe(403);
    expect((await theirs.post('/login').type('form').send({ ...form, _csrf: theirToken })).status).toBe(303);
  });
});
