import request from 'supertest';
import { beforeAll, describe, expect, it } from 'vitest';
import { boardListing, listedTitles, reply, submit, walkBoard } from '../support/forum.ts';
import { giveRole } from '../support/roles.ts';
import { useTestServer } from '../support/server.ts';
import { registerUser, uniqueUsername, type SignedInUser } from '../support/users.ts';

const server = useTestServer();
let admin: SignedInUser;
let writer: SignedInUser;
beforeAll(async () => {
  admin = await registerUser(server.current.url, uniqueUsername('chief'));
  writer = await registerUser(server.current.url, uniqueUsername('writer'));
  await giveRole(admin, 'admin');
});

const anonymous = () => request(server.current.url);
const slug = () => `b-${Math.random().toString(36).slice(2, 8)}`;

async function newBoard(name: string): Promise<string> {
  const s = slug();
  const res = await submit(admin, '/admin', '/admin/boards', { slug: s, name, description: `About ${name}` });
  expect(res.status, res.text.slice(0, 300)).toBe(303);
  return s;
}

async function postIn(board: string | undefined, title: string): Promise<string> {
  const res = await submit(writer, '/posts/new', '/posts', { title, body: 'text', ...(board ? { board } : {}) });
  expect(res.status, res.text.slice(0, 300)).toBe(303);
  return /\/posts\/([0-9a-f]{24})$/.exec(res.headers.location!)![1]!;
}

describe('boards', () => {
  it('lists every board on the home page as /boards/:slug with its post count, and files a post without a board in the default one', async () => {
    const title = `Default ${slug()}`;
    await postIn(undefined, title);
    const home = await anonymous().get('/');
    expect(home.text).toContain('href="/boards/general"');
    expect(home.text).toMatch(/data-board-post-count="\d+"/);
    const general = await anonymous().get('/boards/general');
    expect(general.status).toBe(200);
    expect(boardListing(general.text).titles[0]).toBe(title);
  });

  it('files a post in the board named by its `board` field, and only there', async () => {
    const s = await newBoard('Cooking');
    const title = `Soup ${slug()}`;
    const id = await postIn(s, title);
    expect(boardListing((await anonymous().get(`/boards/${s}`)).text).titles).toEqual([title]);
    expect(boardListing((await anonymous().get('/boards/general')).text).titles).not.toContain(title);
    const home = await anonymous().get('/');
    expect(home.text).toContain(`href="/boards/${s}"`);
    expect(home.text).toMatch(new RegExp(`data-board="${s}"[\\s\\S]*?data-board-post-count="1"`));
    expect((await anonymous().get(`/posts/${id}`)).text).toContain(`data-post-board="${s}"`);
  });

  it('refuses a board that does not exist or is archived, keeping what was typed', async () => {
    const missing = await submit(writer, '/posts/new', '/posts', { title: 'Lost', body: 'kept text', board: 'no-such-board' });
    expect(missing.status).toBe(400);
    expect(missing.text).toContain('Please choose an open board.');
    expect(missing.text).toContain('>kept text</textarea>');
    const s = await newBoard('Old');
    const boardId = /data-admin-board="([^"]+)"/g;
    const adminPage = (await admin.agent.get('/admin')).text;
    expect([...adminPage.matchAll(boardId)].map((m) => m[1])).toContain(s);
    const action = new RegExp(`data-admin-board="${s}">\\s*<form method="post" action="(/admin/boards/[0-9a-f]{24})"`).exec(adminPage)![1]!;
    expect((await submit(admin, '/admin', action, { name: 'Old', description: '', archived: 'on' })).status).toBe(303);
    const archived = await submit(writer, '/posts/new', '/posts', { title: 'Late', body: 'x', board: s });
    expect(archived.status).toBe(400);
    expect((await anonymous().get('/')).text).not.toContain(`href="/boards/${s}"`);
    expect((await anonymous().get(`/boards/${s}`)).text).toContain('This board is archived');
  });

  it('pages a board newest activity first down to its very first post, and a reply brings a post back to the top', async () => {
    const s = await newBoard('Busy');
    const titles: string[] = [];
    const ids: string[] = [];
    for (let i = 1; i <= 45; i++) {
      titles.push(`Busy ${String(i).padStart(2, '0')}`);
      ids.push(await postIn(s, titles.at(-1)!));
    }
    const seen = await walkBoard(server.current.url, s);
    expect(seen).toEqual([...titles].reverse());

    await reply(writer, ids[0]!, 'bump');
    const first = boardListing((await anonymous().get(`/boards/${s}`)).text);
    expect(first.titles[0]).toBe('Busy 01');
    expect(first.titles).toHaveLength(20);
    // Still listed exactly once, everywhere.
    const all = await walkBoard(server.current.url, s);
    expect(all).toHaveLength(45);
    expect(new Set(all).size).toBe(45);
  });

  it('answers 404 for a board that does not exist, and any cursor is harmless', async () => {
    expect((await anonymous().get('/boards/nope-nope')).status).toBe(404);
    for (const q of ['before=abc', 'before=-1', 'after=1e400', 'before[$ne]=1', 'before=99999999999']) {
      expect((await anonymous().get(`/boards/general?${q}`)).status).toBe(200);
    }
  });

  it('lets only admins see /admin, and admins reorder and rename boards', async () => {
    expect((await writer.agent.get('/admin')).status).toBe(403);
    expect((await anonymous().get('/admin')).status).toBe(303);
    const a = await newBoard('Alpha');
    const b = await newBoard('Beta');
    const home = async () => [...(await anonymous().get('/')).text.matchAll(/data-board="([^"]+)"/g)].map((m) => m[1]);
    expect((await home()).indexOf(a)).toBeLessThan((await home()).indexOf(b));
    const adminPage = (await admin.agent.get('/admin')).text;
    const bAction = new RegExp(`data-admin-board="${b}">\\s*<form method="post" action="(/admin/boards/[0-9a-f]{24})"`).exec(adminPage)![1]!;
    expect((await submit(admin, '/admin', `${bAction}/move`, { direction: 'up' })).status).toBe(303);
    const after = await home();
    expect(after.indexOf(b)).toBeLessThan(after.indexOf(a));
    expect((await submit(admin, '/admin', bAction, { name: 'Beta renamed', description: 'new words' })).status).toBe(303);
    expect((await anonymous().get('/')).text).toContain('Beta renamed');
    expect((await submit(writer, '/', '/admin/boards', { slug: slug(), name: 'Sneaky' })).status).toBe(403);
  });

  it('keeps the home page list of latest posts across boards', async () => {
    const s = await newBoard('Mixed');
    const title = `Across ${slug()}`;
    await postIn(s, title);
    expect(listedTitles((await anonymous().get('/')).text)[0]).toBe(title);
  });
});
