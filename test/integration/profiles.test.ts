import request from 'supertest';
import { beforeAll, describe, expect, it } from 'vitest';
import { createPost, reply } from '../support/forum.ts';
import { useTestServer } from '../support/server.ts';
import { csrfToken, registerUser, uniqueUsername, type SignedInUser } from '../support/users.ts';

const server = useTestServer();
let alice: SignedInUser;
let bob: SignedInUser;
beforeAll(async () => {
  alice = await registerUser(server.current.url, uniqueUsername('Alice'));
  bob = await registerUser(server.current.url, uniqueUsername('bob'));
});

const anonymous = () => request(server.current.url);

describe('profiles', () => {
  it('show the member with the contract’s hooks, join date, counts and a Message button', async () => {
    const id = await createPost(alice, 'counted');
    await reply(alice, id, 'and a reply');
    const res = await bob.agent.get(`/users/${alice.username}`);
    expect(res.status).toBe(200);
    expect(res.text).toContain(`data-user-id="${alice.id}" data-username="${alice.username}"`);
    expect(alice.id).toMatch(/^[0-9a-f]{24}$/);
    expect(res.text).toMatch(/data-post-count>1</);
    expect(res.text).toMatch(/data-reply-count>1</);
    expect(res.text).toMatch(/Joined \w+ \d+, \d{4}/);
    expect(res.text).toContain(`data-chat-user="${alice.username}" data-message-button>Message</a>`);
    expect(res.text).toContain(`alt="${alice.username}" data-chat-user="${alice.username}"`);
  });

  it('find the member whatever the case of the name in the address', async () => {
    const res = await anonymous().get(`/users/${alice.username.toLowerCase()}`);
    expect(res.text).toContain(`data-username="${alice.username}"`);
  });

  it('do not offer members a message to themselves', async () => {
    const res = await alice.agent.get(`/users/${alice.username}`);
    expect(res.text).toContain('This is your profile.');
    expect(res.text).not.toContain('data-message-button');
  });

  it('work for Chinese names', async () => {
    const xiaoming = await registerUser(server.current.url, `小明${Date.now() % 100000}`);
    const res = await anonymous().get(`/users/${encodeURIComponent(xiaoming.username)}`);
    expect(res.status).toBe(200);
    expect(res.text).toContain(`data-username="${xiaoming.username}"`);
    expect(res.text).toContain(`src="/avatars/${encodeURIComponent(xiaoming.username)}.svg"`);
  });

  it.each(['/users/nobody-here', '/users/%3Cscript%3E', '/users/x', `/users/${'a'.repeat(80)}`])('answer 404 for %s', async (path) => {
    const res = await anonymous().get(path);
    expect(res.status).toBe(404);
    expect(res.text).toContain('There is no member with that name.');
    expect(res.text).not.toContain('<script>');
  });

  it('cannot be asked for with a query operator', async () => {
    const res = await anonymous().get('/users/%24ne').query({ 'username[$ne]': '' });
    expect(res.status).toBe(404);
  });
});

describe('registration and markup in names', () => {
  it('refuses a username containing <script>', async () => {
    const agent = request.agent(server.current.url);
    const _csrf = await csrfToken(agent, '/register');
    const res = await agent.post('/register').type('form').send({ username: '<script>x', password: 'long enough pw', _csrf });
    expect(res.status).toBe(400);
    expect(res.text).toContain('A username may only contain letters, digits, _ and -.');
    expect(res.text).toContain('value="&lt;script&gt;x"');
    expect(res.text).not.toContain('<script>x');
  });
});

describe('avatars', () => {
  it('are SVG, cached, and the same every time', async () => {
    const first = await anonymous().get(`/avatars/${alice.username}.svg`);
    expect(first.status).toBe(200);
    expect(first.headers['content-type']).toMatch(/^image\/svg\+xml/);
    expect(first.headers['cache-control']).toBe('public, max-age=86400');
    const body = first.body.toString();
    expect(body).toMatch(/^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    expect(body).toContain(`>${alice.username[0]!.toUpperCase()}</text>`);
    const again = await anonymous().get(`/avatars/${alice.username.toUpperCase()}.svg`);
    expect(again.body.toString()).toBe(body);
    const other = await anonymous().get(`/avatars/${bob.username}.svg`);
    expect(other.body.toString()).not.toBe(body);
  });

  it('answer 304 when the browser already has the picture', async () => {
    const first = await anonymous().get(`/avatars/${bob.username}.svg`);
    const cached = await anonymous().get(`/avatars/${bob.username}.svg`).set('If-None-Match', first.headers.etag!);
    expect(cached.status).toBe(304);
  });

  it('are a neutral picture, briefly cached, for names nobody has', async () => {
    for (const name of ['nobody-at-all', '%3Cscript%3Ealert(1)%3C%2Fscript%3E', '%24ne']) {
      const res = await anonymous().get(`/avatars/${name}.svg`);
      expect(res.status).toBe(200);
      expect(res.headers['cache-control']).toBe('public, max-age=300');
      const svg = res.body.toString();
      expect(svg).toContain('>?</text>');
      expect(svg).not.toContain('<script');
    }
  });

  it('need no session', async () => {
    const res = await anonymous().get(`/avatars/${alice.username}.svg`);
    expect(res.headers['set-cookie']).toBeUndefined();
  });

  it('appear beside every author, each carrying data-chat-user and alt text, inside a button', async () => {
    const id = await createPost(alice, 'avatars everywhere');
    await reply(bob, id, 'one');
    await reply(alice, id, 'two');
    const page = (await anonymous().get(`/posts/${id}`)).text;
    const images = [...page.matchAll(/<img class="avatar"[^>]*>/g)].map((m) => m[0]);
    expect(images).toHaveLength(3);
    for (const [img, name] of images.map((img, i) => [img, [alice, bob, alice][i]!.username] as const)) {
      expect(img).toContain(`alt="${name}"`);
      expect(img).toContain(`data-chat-user="${name}"`);
    }
    expect(page.match(/<button type="button" class="avatar-button" data-avatar-button aria-label="Message [^"]+"><img class="avatar"/g)).toHaveLength(3);
  });
});
