// Every place a member writes takes the same rule (src/text/safety.ts): no NUL or other
// control characters, no bidirectional overrides, no lone surrogates reach other members.
import { beforeAll, describe, expect, it } from 'vitest';
import { createPost, reply } from '../support/forum.ts';
import { accepted, sendRaw, useTestServer } from '../support/messaging.ts';
import type { TestServer } from '../support/server.ts';
import { connectAs } from '../support/sockets.ts';
import { csrfToken, registerUser, uniqueUsername } from '../support/users.ts';
import request from 'supertest';

const running = useTestServer();
let server: TestServer;
beforeAll(() => {
  server = running.current;
});

// eslint-disable-next-line no-control-regex
const LYING = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F\u202A-\u202E\u2066-\u2069]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

describe('text that lies about itself', () => {
  it('is neutralised in private messages, as sent and as stored', async () => {
    const [alice, bob] = await Promise.all([registerUser(server.url), registerUser(server.url)]);
    const socket = await connectAs(server.url, alice);
    const ack = accepted(await sendRaw(socket, { to_user: bob.id, content: 'pay\u0000 to invoice\u202Efdp.exe \uD800 ok' }));
    expect(ack.message.content).toBe('pay to invoicefdp.exe \uFFFD ok');
    const history = await bob.agent.get(`/messages/${encodeURIComponent(alice.username)}/history`);
    expect(history.body.messages.map((m: { content: string }) => m.content)).toEqual(['pay to invoicefdp.exe \uFFFD ok']);
    const nothingLeft = await sendRaw(socket, { to_user: bob.id, content: '\u202E\u0000' });
    expect(nothingLeft).toMatchObject({ ok: false, code: 'invalid' });
  });

  it('is neutralised in post titles, post bodies and replies', async () => {
    const author = await registerUser(server.url);
    const id = await createPost(author, 'Read\u202Eme\u0007 now', 'Body\u2066 with\u0000 isolate');
    await reply(author, id, 'A reply\u202D forced\u0001');
    const page = await author.agent.get(`/posts/${id}`);
    expect(page.text).toContain('Readme now');
    expect(page.text).toContain('Body with isolate');
    expect(page.text).toContain('A reply forced');
    expect(page.text).not.toMatch(LYING);
  });

  it('is neutralised in usernames, at registration and at sign-in', async () => {
    const name = uniqueUsername('bidi');
    const agent = request.agent(server.url);
    const _csrf = await csrfToken(agent, '/register');
    const res = await agent.post('/register').type('form').send({ username: `${name}\u202E`, password: 'correct horse battery', _csrf });
    expect(res.status).toBe(303);
    const profile = await agent.get(`/users/${encodeURIComponent(name)}`);
    expect(profile.status).toBe(200);
    expect(profile.text).toContain(`data-username="${name}"`);
    expect(profile.text).not.toMatch(LYING);
    const again = request.agent(server.url);
    const token = await csrfToken(again, '/login');
    const signIn = await again.post('/login').type('form').send({ username: `\u2066${name}\u0000`, password: 'correct horse battery', _csrf: token });
    expect(signIn.status).toBe(303);
  });
});
