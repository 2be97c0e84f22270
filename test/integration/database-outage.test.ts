// The database goes away under a running app and comes back: pages say so at once with a
// friendly 503, /healthz follows the database, and the app recovers by itself.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { afterAll, beforeAll, expect, inject, it, vi } from 'vitest';
import { startEmbeddedDatabase, withDatabaseName, type EmbeddedDatabase, type EngineChoice } from '../../src/db/embedded.ts';
import { createPost } from '../support/forum.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { csrfToken, registerUser, type SignedInUser } from '../support/users.ts';

const quietLog = { info: () => undefined, warn: () => undefined, error: () => undefined } as never;
// Only detects a hang: a request left waiting on the database would never finish.
const HANG_MS = 10_000;

let dataDir: string;
let engine: EngineChoice;
let database: EmbeddedDatabase | undefined;
let server: TestServer;

function startDatabase(port?: number): Promise<EmbeddedDatabase> {
  return startEmbeddedDatabase({ engine, dataDir, log: quietLog, ...(port ? { port } : {}) });
}

beforeAll(async () => {
  dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'parley-outage-'));
  const shared = inject('dbEngine');
  engine = shared === 'mongodb' || shared === 'ferretdb' ? shared : 'auto';
  database = await startDatabase();
  server = await startTestServer({ MONGODB_URI: withDatabaseName(database.uri, 'parley_outage') });
});

afterAll(async () => {
  await server?.close();
  await database?.stop();
  await fs.rm(dataDir, { recursive: true, force: true });
});

function get(pathname: string, agent: ReturnType<typeof request.agent> | ReturnType<typeof request> = request(server.url)) {
  return agent.get(pathname).timeout(HANG_MS);
}

it('answers 503 with a friendly page while the database is down, and recovers by itself when it returns', { timeout: 90_000 }, async () => {
  const member: SignedInUser = await registerUser(server.url);
  const postId = await createPost(member, 'Written before the outage');
  const _csrf = await csrfToken(member.agent, '/posts/new');
  const visitor = request.agent(server.url);
  const visitorCsrf = await csrfToken(visitor, '/login');

  const port = Number(new URL(database!.uri).port);
  await database!.stop();
  database = undefined;

  // The very first requests may reach the driver before it has noticed; those that need
  // the database must come back as 503 too, not hang and not 500.
  const answers = await Promise.all([
    get('/'),
    get(`/posts/${postId}`, member.agent),
    get('/users/' + encodeURIComponent(member.username)),
    member.agent.post('/posts').timeout(HANG_MS).type('form').send({ title: 'During the outage', body: 'Lost?', _csrf }),
    visitor.post('/login').timeout(HANG_MS).type('form').send({ username: member.username, password: member.password, _csrf: visitorCsrf }),
  ]);
  for (const res of answers) {
    expect(res.status, res.text.slice(0, 300)).toBe(503);
    expect(res.text).toContain('Temporarily unavailable');
    expect(res.text).toContain('cannot reach its database');
    expect(res.headers['retry-after']).toBeDefined();
  }
  await vi.waitFor(async () => expect((await get('/healthz')).status).toBe(503), { timeout: HANG_MS, interval: 100 });
  const health = await get('/healthz');
  expect(health.body).toEqual({ status: 'unavailable', database: 'disconnected' });
  // Once the driver knows, every page is 503 at once, even those that need only a session.
  for (const pathname of [`/posts/${postId}`, '/login', '/register', '/posts/new']) {
    const later = await get(pathname, member.agent);
    expect(later.status, pathname).toBe(503);
    expect(later.text).toContain('Temporarily unavailable');
  }

  database = await startDatabase(port);
  await vi.waitFor(async () => expect((await get('/healthz')).status).toBe(200), { timeout: 30_000, interval: 200 });

  const home = await get('/');
  expect(home.status).toBe(200);
  expect(home.text).toContain('Written before the outage');
  // The session stored before the outage still signs the member in.
  const page = await get(`/posts/${postId}`, member.agent);
  expect(page.status).toBe(200);
  expect(page.text).toContain('action="/logout"');
  expect(page.text).toContain(member.username);
  // Nothing was stored by the refused post; writing works again.
  expect(home.text).not.toContain('During the outage');
  await createPost(member, 'Written after the outage');
});
