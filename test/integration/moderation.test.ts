import request from 'supertest';
import { beforeAll, describe, expect, it } from 'vitest';
import { createPost, reply, replyIds, submit } from '../support/forum.ts';
import { giveRole } from '../support/roles.ts';
import { useTestServer } from '../support/server.ts';
import { closeAllSockets, connectAs, connectError } from '../support/sockets.ts';
import { csrfToken, registerUser, uniqueUsername, type SignedInUser } from '../support/users.ts';

const server = useTestServer();
let member: SignedInUser;
let other: SignedInUser;
let mod: SignedInUser;
let admin: SignedInUser;
beforeAll(async () => {
  [member, other, mod, admin] = (await Promise.all(['member', 'other', 'keeper', 'chief'].map((p) => registerUser(server.current.url, uniqueUsername(p))))) as [
    SignedInUser,
    SignedInUser,
    SignedInUser,
    SignedInUser,
  ];
  await giveRole(mod, 'moderator');
  await giveRole(admin, 'admin');
});

const anonymous = () => request(server.current.url);
const unique = (label: string) => `${label} ${Math.random().toString(36).slice(2, 8)}`;

describe('moderators on posts and replies', () => {
  it('hide a post from members (404) while moderators and its author still see it, then show it again', async () => {
    const title = unique('Hide me');
    const id = await createPost(member, title);
    expect((await submit(mod, `/posts/${id}`, `/posts/${id}/moderate`, { action: 'hide' })).status).toBe(303);
    expect((await anonymous().get(`/posts/${id}`)).status).toBe(404);
    expect((await other.agent.get(`/posts/${id}`)).status).toBe(404);
    expect((await member.agent.get(`/posts/${id}`)).text).toContain('data-hidden');
    expect((await mod.agent.get(`/posts/${id}`)).status).toBe(200);
    expect((await anonymous().get('/')).text).not.toContain(title);
    expect((await submit(mod, `/posts/${id}`, `/posts/${id}/moderate`, { action: 'unhide' })).status).toBe(303);
    expect((await anonymous().get(`/posts/${id}`)).status).toBe(200);
  });

  it('hide a reply: members see "Hidden by a moderator." in its place', async () => {
    const id = await createPost(member, unique('Thread'));
    await reply(other, id, 'rude words');
    const rid = replyIds((await anonymous().get(`/posts/${id}`)).text)[0]!;
    expect((await submit(mod, `/posts/${id}`, `/replies/${rid}/moderate`, { action: 'hide' })).status).toBe(303);
    const page = (await anonymous().get(`/posts/${id}`)).text;
    expect(page).not.toContain('rude words');
    expect(page).toContain('Hidden by a moderator.');
  });

  it('lock a thread: no more replies from members (the form is gone and a POST is refused)', async () => {
    const id = await createPost(member, unique('Lock me'));
    expect((await submit(mod, `/posts/${id}`, `/posts/${id}/moderate`, { action: 'lock' })).status).toBe(303);
    const page = (await other.agent.get(`/posts/${id}`)).text;
    expect(page).toContain('data-locked-notice');
    expect(page).not.toContain('data-reply-form');
    const token = await csrfToken(other.agent, '/posts/new');
    const refused = await other.agent.post(`/posts/${id}/replies`).type('form').send({ body: 'late', _csrf: token });
    expect(refused.status).toBe(403);
    expect((await anonymous().get(`/posts/${id}`)).text).not.toContain('late');
  });

  it('refuses moderator actions to members, and any other action', async () => {
    const id = await createPost(member, unique('Safe'));
    expect((await submit(other, `/posts/${id}`, `/posts/${id}/moderate`, { action: 'hide' })).status).toBe(403);
    expect((await submit(mod, `/posts/${id}`, `/posts/${id}/moderate`, { action: 'explode' })).status).toBe(400);
    expect((await other.agent.get('/moderation')).status).toBe(403);
  });
});

describe('reports', () => {
  it('go to the queue with their reason; a moderator resolves or dismisses each, and the log says who', async () => {
    const id = await createPost(other, unique('Reported'), 'bad text');
    const reason = unique('spam link');
    const res = await submit(member, `/posts/${id}`, '/reports', { kind: 'post', id, reason });
    expect(res.status).toBe(303);
    let queue = (await mod.agent.get('/moderation')).text;
    expect(queue).toContain(reason);
    expect(queue).toContain('bad text');
    const reportId = new RegExp(`data-report-id="([0-9a-f]{24})"[\\s\\S]*?${reason}`).exec(queue)![1]!;
    expect((await submit(mod, '/moderation', `/moderation/reports/${reportId}`, { outcome: 'dismissed' })).status).toBe(303);
    queue = (await mod.agent.get('/moderation')).text;
    expect(queue).not.toContain(reason);
    expect(queue).toMatch(new RegExp(`data-log-action="report.dismiss"><td>[^]*?</td><td>${mod.username}</td>`));
  });

  it('take a reply or a message received, never one the reporter cannot see, and refuse a blank reason', async () => {
    const id = await createPost(other, unique('Thread'));
    await reply(other, id, 'reply to report');
    const rid = replyIds((await anonymous().get(`/posts/${id}`)).text)[0]!;
    expect((await submit(member, `/posts/${id}`, '/reports', { kind: 'reply', id: rid, reason: 'rude' })).status).toBe(303);
    expect((await submit(member, `/posts/${id}`, '/reports', { kind: 'reply', id: rid, reason: '  ' })).status).toBe(400);
    expect((await submit(member, `/posts/${id}`, '/reports', { kind: 'message', id: 'f'.repeat(24), reason: 'x' })).status).toBe(404);
    expect((await submit(member, `/posts/${id}`, '/reports', { kind: 'user', id, reason: 'x' })).status).toBe(400);
  });
});

describe('suspension', () => {
  it('signs the member out at once: pages, sign-in and sockets refuse them until it is lifted', async () => {
    const victim = await registerUser(server.current.url, uniqueUsername('victim'));
    const socket = await connectAs(server.current.url, victim);
    const closed = new Promise<string>((resolve) => socket.once('disconnect', (reason) => resolve(reason)));
    const res = await submit(mod, '/moderation', '/moderation/suspend', { username: victim.username, length: '7', reason: 'abuse' });
    expect(res.status).toBe(303);
    expect(await closed).toBe('io server disconnect');

    // The next page finds them signed out; posting sends them to sign in.
    expect((await victim.agent.get('/posts/new')).status).toBe(303);
    const login = await request(server.current.url).get('/login');
    const token = /name="_csrf" value="([^"]+)"/.exec(login.text)![1]!;
    const cookie = (login.headers['set-cookie'] as unknown as string[]).map((c) => c.split(';')[0]).join('; ');
    const refused = await request(server.current.url)
      .post('/login')
      .set('Cookie', cookie)
      .type('form')
      .send({ username: victim.username, password: victim.password, _csrf: token });
    expect(refused.status).toBe(403);
    expect(refused.text).toContain('This account is suspended until');
    const again = await connectAs(server.current.url, victim, { wait: false });
    expect((await connectError(again)).data?.code).toBe('signIn');
    closeAllSockets();

    expect((await mod.agent.get('/moderation')).text).toContain('data-log-action="user.suspend"');
    expect((await submit(mod, '/moderation', '/moderation/suspend', { username: victim.username, length: 'lift' })).status).toBe(303);
    const back = await request(server.current.url).post('/login').set('Cookie', cookie).type('form').send({ username: victim.username, password: victim.password, _csrf: token });
    expect(back.status).toBe(303);
  });

  it('is for moderators over members only: not themselves, not another moderator or an admin', async () => {
    const otherMod = await registerUser(server.current.url, uniqueUsername('keeper2'));
    await giveRole(otherMod, 'moderator');
    for (const username of [mod.username, otherMod.username, admin.username]) {
      expect((await submit(mod, '/moderation', '/moderation/suspend', { username, length: 'forever' })).status).toBe(403);
    }
    expect((await submit(other, '/', '/moderation/suspend', { username: member.username, length: 'forever' })).status).toBe(403);
    expect((await submit(mod, '/moderation', '/moderation/suspend', { username: 'nobody-here', length: '1' })).status).toBe(404);
  });
});

describe('roles', () => {
  it('an admin makes a member a moderator from the admin page', async () => {
    const next = await registerUser(server.current.url, uniqueUsername('next'));
    expect((await next.agent.get('/moderation')).status).toBe(403);
    expect((await submit(admin, '/admin', '/admin/roles', { username: next.username, role: 'moderator' })).status).toBe(303);
    expect((await next.agent.get('/moderation')).status).toBe(200);
    expect((await next.agent.get('/admin')).status).toBe(403);
  });
});
