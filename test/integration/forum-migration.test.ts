// A database written before boards and editing: posts with no board, replies with no
// `reply_refs` entry, in the shapes today's code (before this change) writes them. The
// app's start moves them into the default board, newest activity first, and every old
// post and reply can then be edited, replied to and deleted like a new one.
import { spawn } from 'node:child_process';
import path from 'node:path';
import mongoose from 'mongoose';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerUser as createUser } from '../../src/accounts/service.ts';
import { UserModel } from '../../src/accounts/user-model.ts';
import { connectDatabase } from '../../src/db/database.ts';
import { testDatabaseUri } from '../support/database.ts';
import { boardListing, listedReplies, reply, replyIds, submit, walkBoard } from '../support/forum.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import type { SignedInUser } from '../support/users.ts';

const uri = testDatabaseUri('migrate');
const PASSWORD = 'correct horse battery';
const LEGACY_POSTS = 25;
let server: TestServer;
let author: SignedInUser;
const postIds: string[] = [];

async function signIn(username: string): Promise<SignedInUser> {
  const agent = request.agent(server.url);
  const page = await agent.get('/login');
  const _csrf = /name="_csrf" value="([^"]+)"/.exec(page.text)![1]!;
  const res = await agent.post('/login').type('form').send({ username, password: PASSWORD, _csrf });
  expect(res.status).toBe(303);
  const user = await UserModel.findOne({ username }).lean();
  return { id: user!._id.toString(), username, password: PASSWORD, cookie: '', agent };
}

beforeAll(async () => {
  await connectDatabase(uri);
  const user = await createUser('oldtimer', PASSWORD);
  const posts = mongoose.connection.collection('posts');
  const pages = mongoose.connection.collection('reply_pages');
  const start = Date.UTC(2026, 0, 1);
  for (let i = 0; i < LEGACY_POSTS; i++) {
    const _id = new mongoose.Types.ObjectId();
    postIds.push(_id.toString());
    const at = new Date(start + i * 60_000);
    const replies = i === 0 ? 2 : 0;
    // Post 0 is the oldest but its replies make it the most recently active.
    const lastActivityAt = i === 0 ? new Date(start + LEGACY_POSTS * 60_000) : at;
    await posts.insertOne({ _id, title: `Legacy ${String(i).padStart(2, '0')}`, body: `old body ${i}`, authorId: user._id, authorName: 'oldtimer', createdAt: at, lastActivityAt, replyCount: replies });
    if (replies) {
      await pages.insertOne({
        _id: `${_id.toString()}:1` as unknown as mongoose.Types.ObjectId,
        replies: [1, 2].map((n) => ({ _id: new mongoose.Types.ObjectId(), n, authorId: user._id, authorName: 'oldtimer', body: `old reply ${n}`, createdAt: lastActivityAt })),
      });
    }
  }
  await mongoose.disconnect();
  server = await startTestServer({ MONGODB_URI: uri });
  author = await signIn('oldtimer');
});

afterAll(async () => {
  await server?.close();
});

describe('a database from before boards', () => {
  it('lists every old post in the default board, newest activity first, down to the very first', async () => {
    const seen = await walkBoard(server.url, 'general');
    const expected = ['Legacy 00', ...Array.from({ length: LEGACY_POSTS - 1 }, (_, i) => `Legacy ${String(LEGACY_POSTS - 1 - i).padStart(2, '0')}`)];
    expect(seen).toEqual(expected);
    expect((await request(server.url).get('/')).text).toMatch(/data-board="general"[\s\S]*?data-board-post-count="25"/);
  });

  it('lets old replies be edited by id, and old posts be replied to (moving them up once) and deleted', async () => {
    const rid = replyIds((await request(server.url).get(`/posts/${postIds[0]}`)).text)[1]!;
    expect((await submit(author, `/posts/${postIds[0]}`, `/replies/${rid}/edit`, { body: 'edited old reply' })).status).toBe(303);
    expect(listedReplies((await request(server.url).get(`/posts/${postIds[0]}`)).text)).toEqual(['old reply 1', 'edited old reply']);

    await reply(author, postIds[5]!, 'new life');
    const top = boardListing((await request(server.url).get('/boards/general')).text).titles;
    expect(top[0]).toBe('Legacy 05');
    expect(top.filter((t) => t === 'Legacy 05')).toHaveLength(1);

    expect((await submit(author, `/posts/${postIds[7]}`, `/posts/${postIds[7]}/delete`)).status).toBe(303);
    const all = await walkBoard(server.url, 'general');
    expect(all).not.toContain('Legacy 07');
    expect(new Set(all).size).toBe(LEGACY_POSTS - 1);
  });

  it('does it once: a restart lists the same posts, each once', async () => {
    await server.close();
    server = await startTestServer({ MONGODB_URI: uri });
    author = await signIn('oldtimer');
    const first = boardListing((await request(server.url).get('/boards/general')).text).titles;
    expect(new Set(first).size).toBe(first.length);
    expect(first[0]).toBe('Legacy 05');
  });
});

describe('npm run admin -- promote', () => {
  function runAdmin(args: string[]): Promise<{ code: number | null; output: string }> {
    return new Promise((resolve) => {
      const child = spawn(process.execPath, ['--import', 'tsx', 'src/scripts/admin.ts', ...args], {
        cwd: path.resolve(import.meta.dirname, '../..'),
        env: { PATH: process.env.PATH, HOME: process.env.HOME, MONGODB_URI: uri, LOG_LEVEL: 'silent', DATA_DIR: server.dataDir },
      });
      let output = '';
      child.stdout.on('data', (c: Buffer) => (output += c.toString()));
      child.stderr.on('data', (c: Buffer) => (output += c.toString()));
      child.once('exit', (code) => resolve({ code, output }));
    });
  }

  it('makes a member an admin, who then reaches /admin; a wrong name or command says so', async () => {
    expect((await author.agent.get('/admin')).status).toBe(403);
    const done = await runAdmin(['promote', 'oldtimer']);
    expect(done.output).toContain('oldtimer is now an admin.');
    expect(done.code).toBe(0);
    // The running server has its own kept copy of the member: it expires within READ_CACHE_MS.
    await expect.poll(async () => (await author.agent.get('/admin')).status, { timeout: 5000 }).toBe(200);
    const missing = await runAdmin(['promote', 'nobody-at-all']);
    expect(missing.code).toBe(1);
    expect(missing.output).toContain('There is no member named "nobody-at-all".');
    expect((await runAdmin(['demote'])).code).toBe(2);
  });
});
