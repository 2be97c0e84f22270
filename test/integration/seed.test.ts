// `npm run seed` against a database of its own, as a newcomer would run it.
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import request from 'supertest';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { testDatabaseUri } from '../support/database.ts';
import { listedTitles } from '../support/forum.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { csrfToken } from '../support/users.ts';

const run = promisify(execFile);
const uri = testDatabaseUri('seed');
let dataDir: string;
let server: TestServer | undefined;

function seed() {
  const env = { ...process.env, MONGODB_URI: uri, DATA_DIR: dataDir, LOG_LEVEL: 'silent', NODE_ENV: 'test' };
  return run(process.execPath, ['--import', 'tsx', 'src/scripts/seed.ts'], { env, cwd: path.resolve(import.meta.dirname, '../..') }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (err: { code: number; stdout: string; stderr: string }) => ({ code: err.code, stdout: err.stdout, stderr: err.stderr }),
  );
}

beforeAll(async () => {
  dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'parley-seed-'));
});
afterAll(async () => {
  await server?.close();
  await fs.rm(dataDir, { recursive: true, force: true });
});

it('fills an empty database with members who can sign in, posts and replies — and only an empty one', async () => {
  const first = await seed();
  expect(first.code, first.stderr).toBe(0);
  expect(first.stdout).toContain('Sign in as any of alice, bob, 小明 with the password "parley-demo".');

  const again = await seed();
  expect(again.code).toBe(1);
  expect(again.stderr).toContain('already has members');

  server = await startTestServer({ MONGODB_URI: uri });
  const home = await request(server.url).get('/');
  expect(listedTitles(home.text).length).toBeGreaterThanOrEqual(5);
  expect(home.text).toContain('Welcome to Parley');

  const agent = request.agent(server.url);
  const _csrf = await csrfToken(agent, '/login');
  const login = await agent.post('/login').type('form').send({ username: '小明', password: 'parley-demo', _csrf });
  expect(login.status).toBe(303);
  expect((await agent.get('/')).text).toContain('data-current-username="小明"');
  const profile = await agent.get(`/users/${encodeURIComponent('alice')}`);
  expect(profile.text).toMatch(/data-post-count>2</);

  // Boards, formatted posts, and an admin.
  expect(first.stdout).toContain('alice is an admin');
  for (const board of ['general', 'realtime', 'chat']) expect(home.text).toContain(`href="/boards/${board}"`);
  const realtime = await request(server.url).get('/boards/realtime');
  expect(listedTitles(realtime.text)).toContain('用 Socket.IO 实现实时私信');
  const welcome = /href="(\/posts\/[0-9a-f]{24})">Welcome to Parley/.exec(home.text)![1]!;
  expect((await request(server.url).get(welcome)).text).toContain('<strong>private messages that arrive in real time</strong>');
  const admin = request.agent(server.url);
  const token = await csrfToken(admin, '/login');
  expect((await admin.post('/login').type('form').send({ username: 'alice', password: 'parley-demo', _csrf: token })).status).toBe(303);
  expect((await admin.get('/admin')).status).toBe(200);
  expect((await agent.get('/admin')).status).toBe(403);
});
