// Size and rate limits on the HTTP side: oversized bodies, password guessing, mass sign-ups.
import net from 'node:net';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { registerUser as createAccount } from '../../src/accounts/service.ts';
import { PostModel } from '../../src/forum/model.ts';
import { useTestServer } from '../support/server.ts';
import { csrfToken, registerUser, uniqueUsername } from '../support/users.ts';

const PASSWORD = 'correct horse battery';

/** Rough size of a form's framing; the fields below are sized well past the limit. */
const OVER_64_KB = 'x'.repeat(70 * 1024);

describe('request size', () => {
  const server = useTestServer();

  it('refuses an oversized post with a clear 413 page, storing nothing', async () => {
    const user = await registerUser(server.current.url);
    const before = await PostModel.countDocuments();
    const _csrf = await csrfToken(user.agent, '/posts/new');
    const res = await user.agent.post('/posts').type('form').send({ title: 'Too long', body: OVER_64_KB, _csrf });
    expect(res.status).toBe(413);
    expect(res.text).toContain('Too large');
    expect(res.text).toContain('a form may send at most 64 KB in 100 fields');
    expect(await PostModel.countDocuments()).toBe(before);
  });

  it('refuses a form with too many fields with the same clear page', async () => {
    const fields = Array.from({ length: 150 }, (_, i) => `f${i}=1`).join('&');
    const res = await request(server.current.url).post('/register').type('form').send(fields);
    expect(res.status).toBe(413);
    expect(res.text).toContain('a form may send at most 64 KB in 100 fields');
  });

  it('answers an oversized JSON body in JSON', async () => {
    const res = await request(server.current.url)
      .post('/login')
      .set('Accept', 'application/json')
      .send({ username: 'someone', password: OVER_64_KB });
    expect(res.status).toBe(413);
    expect(res.body).toEqual({ ok: false, error: expect.stringContaining('too large') });
  });

  it('says a malformed JSON body could not be read', async () => {
    const res = await request(server.current.url).post('/login').set('Content-Type', 'application/json').send('{"username": ');
    expect(res.status).toBe(400);
    expect(res.text).toContain('could not read that request');
  });

  it('refuses a body announced as huge without waiting for it', async () => {
    const socket = net.connect(server.current.port, '127.0.0.1');
    socket.setEncoding('utf8');
    let received = '';
    socket.on('data', (chunk: string) => (received += chunk));
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    // One gigabyte announced, nothing sent: the answer must not wait for it.
    socket.write(
      'POST /register HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\n' +
        'Content-Length: 1073741824\r\nConnection: close\r\n\r\n',
    );
    await closed;
    expect(received).toMatch(/^HTTP\/1\.1 413 /);
  });
});

describe('login and registration rates', () => {
  // Behind a trusted proxy, each X-Forwarded-For below stands for a different person.
  const server = useTestServer({
    TRUST_PROXY: 'loopback',
    LOGIN_RATE_PER_ACCOUNT: '3/15m',
    LOGIN_RATE_PER_IP: '5/15m',
    REGISTER_RATE: '2/1h',
  });

  async function login(address: string, username: string, password: string, agent = request.agent(server.current.url)) {
    const _csrf = await csrfToken(agent, '/login');
    const res = await agent.post('/login').set('X-Forwarded-For', address).type('form').send({ username, password, _csrf });
    return { res, agent };
  }

  async function register(address: string, username: string) {
    const agent = request.agent(server.current.url);
    const _csrf = await csrfToken(agent, '/register');
    return agent.post('/register').set('X-Forwarded-For', address).type('form').send({ username, password: PASSWORD, _csrf });
  }

  async function account(): Promise<string> {
    const username = uniqueUsername('acct');
    await createAccount(username, PASSWORD);
    return username;
  }

  /** The N of "wait N seconds", checked to be within the limit's window. */
  function waitSeconds(html: string, windowSeconds: number): number {
    const match = /Too many attempts\. Please wait (\d+) seconds and try again\./.exec(html);
    expect(match, 'a "please wait" message').not.toBeNull();
    const seconds = Number(match![1]);
    expect(seconds).toBeGreaterThanOrEqual(1);
    expect(seconds).toBeLessThanOrEqual(windowSeconds);
    return seconds;
  }

  it('stops guessing one account’s password from many addresses, even with the right password', async () => {
    const victim = await account();
    for (const n of [1, 2, 3]) {
      expect((await login(`203.0.113.${n}`, victim, 'wrong password')).res.status).toBe(401);
    }
    const { res, agent } = await login('203.0.113.4', victim.toUpperCase(), PASSWORD);
    expect(res.status).toBe(429);
    waitSeconds(res.text, 15 * 60);
    expect(res.text).toContain(`value="${victim.toUpperCase()}"`);
    expect((await agent.get('/')).text).not.toContain('action="/logout"');
    // Only that account is held back, not the address.
    expect((await login('203.0.113.4', await account(), PASSWORD)).res.status).toBe(303);
  });

  it('stops one address trying many accounts, and only that address', async () => {
    for (let n = 0; n < 5; n++) {
      expect((await login('198.51.100.7', uniqueUsername('nobody'), 'guess guess')).res.status).toBe(401);
    }
    const target = await account();
    const refused = await login('198.51.100.7', target, PASSWORD);
    expect(refused.res.status).toBe(429);
    waitSeconds(refused.res.text, 15 * 60);
    const elsewhere = await login('198.51.100.8', target, PASSWORD);
    expect(elsewhere.res.status).toBe(303);
    expect((await elsewhere.agent.get('/')).text).toContain('action="/logout"');
  });

  it('does not let a stranger lock the owner out of a browser that has signed in before', async () => {
    const owner = await account();
    const ownBrowser = request.agent(server.current.url);
    expect((await login('192.0.2.50', owner, PASSWORD, ownBrowser)).res.status).toBe(303);
    expect((await ownBrowser.post('/logout').type('form').send({ _csrf: await csrfToken(ownBrowser, '/') })).status).toBe(303);

    for (const n of [1, 2, 3]) expect((await login(`198.18.0.${n}`, owner, 'wrong password')).res.status).toBe(401);
    // Locked for everyone else, even with the right password…
    expect((await login('198.18.0.4', owner, PASSWORD)).res.status).toBe(429);
    // …but not for the owner's own browser.
    expect((await login('192.0.2.50', owner, PASSWORD, ownBrowser)).res.status).toBe(303);
  });

  it('does not let a stranger lock out a member who has only ever registered in this browser', async () => {
    const username = uniqueUsername('reg');
    const ownBrowser = request.agent(server.current.url);
    const _csrf = await csrfToken(ownBrowser, '/register');
    const registered = await ownBrowser.post('/register').set('X-Forwarded-For', '192.0.2.70').type('form').send({ username, password: PASSWORD, _csrf });
    expect(registered.status).toBe(303);
    expect((await ownBrowser.post('/logout').type('form').send({ _csrf: await csrfToken(ownBrowser, '/') })).status).toBe(303);

    for (const n of [1, 2, 3]) expect((await login(`198.18.1.${n}`, username, 'wrong password')).res.status).toBe(401);
    expect((await login('198.18.1.4', username, PASSWORD)).res.status).toBe(429);
    expect((await login('192.0.2.70', username, PASSWORD, ownBrowser)).res.status).toBe(303);
  });

  it("counts a known browser's own failures against it", async () => {
    const owner = await account();
    const browser = request.agent(server.current.url);
    expect((await login('192.0.2.60', owner, PASSWORD, browser)).res.status).toBe(303);
    for (let n = 0; n < 3; n++) expect((await login('192.0.2.60', owner, 'wrong password', browser)).res.status).toBe(401);
    expect((await login('192.0.2.60', owner, PASSWORD, browser)).res.status).toBe(429);
  });

  it('forgets an account’s failed attempts once its owner signs in', async () => {
    const owner = await account();
    for (const round of [1, 2]) {
      expect((await login(`192.0.2.${round}0`, owner, 'typo typo')).res.status).toBe(401);
      expect((await login(`192.0.2.${round}1`, owner, 'typo typo')).res.status).toBe(401);
      expect((await login(`192.0.2.${round}2`, owner, PASSWORD)).res.status).toBe(303);
    }
  });

  it('limits sign-ups per address, storing nothing for a refused one', async () => {
    expect((await register('192.0.2.100', uniqueUsername('first'))).status).toBe(303);
    expect((await register('192.0.2.100', uniqueUsername('second'))).status).toBe(303);
    const third = uniqueUsername('third');
    const refused = await register('192.0.2.100', third);
    expect(refused.status).toBe(429);
    waitSeconds(refused.text, 60 * 60);
    // The name was not taken: someone at another address can have it.
    expect((await register('192.0.2.101', third)).status).toBe(303);
  });
});

describe('forwarding headers from a client the app does not trust', () => {
  const server = useTestServer({ LOGIN_RATE_PER_IP: '3/15m' });

  it('do not let a client dodge the per-address limit by naming other addresses', async () => {
    const statuses: number[] = [];
    for (let n = 1; n <= 4; n++) {
      const agent = request.agent(server.current.url);
      const _csrf = await csrfToken(agent, '/login');
      const res = await agent
        .post('/login')
        .set('X-Forwarded-For', `10.0.0.${n}`)
        .type('form')
        .send({ username: uniqueUsername('nobody'), password: 'guess guess', _csrf });
      statuses.push(res.status);
    }
    expect(statuses).toEqual([401, 401, 401, 429]);
  });
});
