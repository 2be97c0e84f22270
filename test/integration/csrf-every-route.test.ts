// Every state-changing route refuses a form without its CSRF token, or with another
// session's, and accepts the same form with the right one: each case fixed here, so
// that skipping the check on any one route fails a named test (a random fuzzer only
// catches it by chance). A route added without a case here fails the last test.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import request from 'supertest';
import { beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_BOARD_ID } from '../../src/forum/boards-model.ts';
import { fileReport } from '../../src/moderation/reports.ts';
import { setRole, type Role } from '../../src/moderation/roles.ts';
import { createPost } from '../support/forum.ts';
import { useTestServer } from '../support/server.ts';
import type { TestServer } from '../support/server.ts';
import { csrfToken, registerUser, uniqueUsername, type SignedInUser } from '../support/users.ts';

const running = useTestServer();
let server: TestServer;
let member: SignedInUser;
let other: SignedInUser;
let postId: string;
beforeAll(async () => {
  server = running.current;
  [member, other] = await Promise.all([registerUser(server.url), registerUser(server.url)]);
  postId = await createPost(member, 'A post to reply to');
});

type Agent = ReturnType<typeof request.agent>;
interface Case {
  /** The route as written in the source. */
  route: string;
  /** Who sends it: a fresh signed-out browser, or a signed-in member. */
  signedIn: boolean;
  /** The signed-in member's role, when the route needs one. */
  role?: Role;
  /** The path and a valid form for it, made fresh for each attempt by the browser that sends it (`who`: its signed-in member). */
  form(agent: Agent, who?: SignedInUser): Promise<{ path: string; fields: Record<string, string> }>;
  /** What the right form is answered with, when not a redirect (a JSON answer). */
  okStatus?: number;
}

/** A message the browser's member sent to `other` (by the form), to edit or delete. */
async function ownMessage(agent: Agent): Promise<string> {
  await agent.post('/messages').type('form').send({ _csrf: await csrfToken(agent, '/messages'), to: other.username, content: 'mine to change' });
  const history = await agent.get(`/messages/${other.username}/history`);
  return (history.body as { messages: { _id: string }[] }).messages.at(-1)!._id;
}

/** A post written by the browser's own member: theirs to edit or delete. */
async function ownPost(agent: Agent): Promise<string> {
  const res = await agent.post('/posts').type('form').send({ title: 'Mine', body: 'text', _csrf: await csrfToken(agent, '/posts/new') });
  return /\/posts\/([0-9a-f]{24})$/.exec(res.headers.location!)![1]!;
}

/** A reply written by the browser's own member. */
async function ownReply(agent: Agent): Promise<string> {
  const res = await agent.post(`/posts/${postId}/replies`).type('form').send({ body: 'my reply', _csrf: await csrfToken(agent, `/posts/${postId}`) });
  return /#reply-([0-9a-f]{24})$/.exec(res.headers.location!)![1]!;
}

let boardCounter = 0;

/** A group conversation of `who`, member and other, started through the compose form: its path. */
async function groupOf(who: SignedInUser): Promise<string> {
  const _csrf = await csrfToken(who.agent, '/messages');
  const res = await who.agent.post('/messages').type('form').send({ _csrf, to: `${member.username}, ${other.username}`, content: 'a group' });
  expect(res.status).toBe(303);
  return String(res.headers.location);
}

/** The password every member made by registerUser has (the settings forms ask for it). */
const PASSWORD = 'correct horse battery';

const CASES: Case[] = [
  { route: '/register', signedIn: false, form: async () => ({ path: '/register', fields: { username: uniqueUsername('csrf'), password: 'correct horse battery' } }) },
  { route: '/login', signedIn: false, form: async () => ({ path: '/login', fields: { username: member.username, password: member.password } }) },
  { route: '/logout', signedIn: true, form: async () => ({ path: '/logout', fields: {} }) },
  { route: '/posts', signedIn: true, form: async () => ({ path: '/posts', fields: { title: 'Forged?', body: 'Only with the token.' } }) },
  { route: '/posts/:id/replies', signedIn: true, form: async () => ({ path: `/posts/${postId}/replies`, fields: { body: 'A reply' } }) },
  { route: '/messages', signedIn: true, form: async () => ({ path: '/messages', fields: { to: other.username, content: 'hello' } }) },
  { route: '/messages/:username', signedIn: true, form: async () => ({ path: `/messages/${other.username}`, fields: { content: 'hello' } }) },
  { route: '/messages/:username/read', signedIn: true, form: async () => ({ path: `/messages/${other.username}/read`, fields: { upTo: '1' } }) },
  { route: '/messages/c/:id', signedIn: true, form: async (_agent, who) => ({ path: await groupOf(who!), fields: { content: 'hello, group' } }) },
  { route: '/messages/c/:id/read', signedIn: true, form: async (_agent, who) => ({ path: `${await groupOf(who!)}/read`, fields: { upTo: '1' } }) },
  { route: '/messages/c/:id/members', signedIn: true, form: async (_agent, who) => ({ path: `${await groupOf(who!)}/members`, fields: { to: (await registerUser(server.url)).username } }) },
  { route: '/messages/c/:id/leave', signedIn: true, form: async (_agent, who) => ({ path: `${await groupOf(who!)}/leave`, fields: {} }) },
  { route: '/messages/m/:id/edit', signedIn: true, form: async (agent) => ({ path: `/messages/m/${await ownMessage(agent)}/edit`, fields: { content: 'changed' } }) },
  { route: '/messages/m/:id/delete', signedIn: true, form: async (agent) => ({ path: `/messages/m/${await ownMessage(agent)}/delete`, fields: {} }) },
  { route: '/messages/requests/:username/accept', signedIn: true, form: async () => ({ path: `/messages/requests/${other.username}/accept`, fields: {} }) },
  { route: '/messages/requests/:username/ignore', signedIn: true, form: async () => ({ path: `/messages/requests/${other.username}/ignore`, fields: {} }) },
  { route: '/messages/requests/settings', signedIn: true, form: async () => ({ path: '/messages/requests/settings', fields: { requests: 'on' } }) },
  { route: '/users/:username/block', signedIn: true, form: async () => ({ path: `/users/${other.username}/block`, fields: { back: 'profile' } }) },
  { route: '/users/:username/unblock', signedIn: true, form: async () => ({ path: `/users/${other.username}/unblock`, fields: { back: 'profile' } }) },
  { route: '/notifications/read', signedIn: true, form: async () => ({ path: '/notifications/read', fields: {} }) },
  { route: '/password/forgot', signedIn: false, okStatus: 200, form: async () => ({ path: '/password/forgot', fields: { email: `${uniqueUsername('csrf')}@example.test` } }) },
  {
    route: '/password/reset/:token',
    signedIn: false,
    form: async () => {
      const { createToken } = await import('../../src/settings/tokens.ts');
      const token = await createToken({ purpose: 'reset', userId: other.id, authVersion: 0 }, 60_000);
      return { path: `/password/reset/${token}`, fields: { password: PASSWORD } };
    },
  },
  { route: '/settings/password', signedIn: true, form: async () => ({ path: '/settings/password', fields: { current: PASSWORD, password: 'another long password' } }) },
  { route: '/settings/language', signedIn: true, form: async () => ({ path: '/settings/language', fields: { locale: 'zh-CN' } }) },
  { route: '/settings/email', signedIn: true, form: async () => ({ path: '/settings/email', fields: { email: `${uniqueUsername('csrf')}@example.test` } }) },
  { route: '/settings/notifications', signedIn: true, form: async () => ({ path: '/settings/notifications', fields: { unreadMail: 'on' } }) },
  { route: '/settings/delete', signedIn: true, form: async () => ({ path: '/settings/delete', fields: { password: PASSWORD } }) },
  { route: '/posts/:id/edit', signedIn: true, form: async (agent) => ({ path: `/posts/${await ownPost(agent)}/edit`, fields: { title: 'Edited', body: 'edited' } }) },
  { route: '/posts/:id/delete', signedIn: true, form: async (agent) => ({ path: `/posts/${await ownPost(agent)}/delete`, fields: {} }) },
  { route: '/replies/:id/edit', signedIn: true, form: async (agent) => ({ path: `/replies/${await ownReply(agent)}/edit`, fields: { body: 'edited' } }) },
  { route: '/replies/:id/delete', signedIn: true, form: async (agent) => ({ path: `/replies/${await ownReply(agent)}/delete`, fields: {} }) },
  { route: '/preview', signedIn: true, okStatus: 200, form: async () => ({ path: '/preview', fields: { body: '**hi**' } }) },
  { route: '/reports', signedIn: true, form: async () => ({ path: '/reports', fields: { kind: 'post', id: postId, reason: 'spam' } }) },
  { route: '/posts/:id/moderate', signedIn: true, role: 'moderator', form: async () => ({ path: `/posts/${postId}/moderate`, fields: { action: 'unlock' } }) },
  { route: '/replies/:id/moderate', signedIn: true, role: 'moderator', form: async (agent) => ({ path: `/replies/${await ownReply(agent)}/moderate`, fields: { action: 'hide' } }) },
  {
    route: '/moderation/reports/:id',
    signedIn: true,
    role: 'moderator',
    form: async () => ({ path: `/moderation/reports/${await fileReport({ kind: 'post', targetId: postId, href: `/posts/${postId}`, excerpt: '', authorId: member.id, authorName: member.username, reason: 'r', reporterId: other.id, reporterName: other.username })}`, fields: { outcome: 'dismissed' } }),
  },
  { route: '/moderation/suspend', signedIn: true, role: 'moderator', form: async () => ({ path: '/moderation/suspend', fields: { username: (await registerUser(server.url)).username, length: '1' } }) },
  { route: '/admin/boards', signedIn: true, role: 'admin', form: async () => ({ path: '/admin/boards', fields: { slug: `csrf-${Date.now()}-${++boardCounter}`, name: 'Board' } }) },
  { route: '/admin/boards/:id', signedIn: true, role: 'admin', form: async () => ({ path: `/admin/boards/${DEFAULT_BOARD_ID.toString()}`, fields: { name: 'General', description: '' } }) },
  { route: '/admin/boards/:id/move', signedIn: true, role: 'admin', form: async () => ({ path: `/admin/boards/${DEFAULT_BOARD_ID.toString()}/move`, fields: { direction: 'down' } }) },
  { route: '/admin/roles', signedIn: true, role: 'admin', form: async () => ({ path: '/admin/roles', fields: { username: (await registerUser(server.url)).username, role: 'moderator' } }) },
];

/**
 * POST routes without a CSRF token by design, each with why and the test of what stands in for it.
 * RFC 8058: a mail client POSTs the List-Unsubscribe link with no cookie; its signature is the
 * proof (test/integration/mail-unread.test.ts, "stops after a one-click unsubscribe").
 */
const EXEMPT = ['/mail/unsubscribe/:userId/:signature'];

/** A browser for one attempt: signed in as a new member, or signed out; with its own form token. */
async function browser(signedIn: boolean, role?: Role): Promise<{ agent: Agent; token: string; who?: SignedInUser }> {
  if (signedIn) {
    const someone = await registerUser(server.url);
    if (role) await setRole(someone.id, role);
    return { agent: someone.agent, token: await csrfToken(someone.agent, '/'), who: someone };
  }
  const agent = request.agent(server.url);
  return { agent, token: await csrfToken(agent, '/login') };
}

describe('CSRF on every state-changing route', () => {
  it.each(CASES.map((c) => [c.route, c] as const))('POST %s: 403 without a token or with another session\u2019s, 303 with its own', async (_route, c) => {
    const { agent, token, who } = await browser(c.signedIn, c.role);
    const { token: foreign } = await browser(c.signedIn);
    const { path: target, fields } = await c.form(agent, who);
    const without = await agent.post(target).type('form').send(fields);
    expect(without.status, 'no token').toBe(403);
    const wrong = await agent.post(target).type('form').send({ ...fields, _csrf: foreign });
    expect(wrong.status, 'another session\u2019s token').toBe(403);
    const right = await agent.post(target).type('form').send({ ...fields, _csrf: token });
    expect(right.status, right.text.slice(0, 200)).toBe(c.okStatus ?? 303);
  });

  it('has a case for every POST route in the source', () => {
    const root = path.resolve(import.meta.dirname, '../../src');
    const files = readdirSync(root, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'));
    const routes = files.flatMap((f) => [...readFileSync(path.join(root, f), 'utf8').matchAll(/\.(?:post|put|patch|delete)\(\s*'([^']+)'/g)].map((m) => m[1]!));
    expect(routes.length).toBeGreaterThan(5);
    expect(new Set(routes)).toEqual(new Set([...CASES.map((c) => c.route), ...EXEMPT]));
  });
});
