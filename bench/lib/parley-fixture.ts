// Parley under the bench, with the bench holding a connection to the same database:
// the bench starts the embedded engine itself and hands its address to the Parley child
// (MONGODB_URI), so it can seed what a scenario needs (users, sessions, posts, a million
// messages) straight into the collections, and count afterwards what was stored.
//
// Signing in a thousand users through the login form would cost a thousand scrypt hashes
// (≈50 ms of CPU each); instead every bench user shares one password hash, and its session
// is written the way connect-mongo stores it, with the cookie express-session would sign.
import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { MongoClient, ObjectId, type Db } from 'mongodb';
import { hashPassword } from '../../src/accounts/passwords.ts';
import { usernameKey } from '../../src/accounts/user-model.ts';
import { startEmbeddedDatabase, withDatabaseName, type EmbeddedDatabase } from '../../src/db/embedded.ts';
import { SESSION_COOKIE } from '../../src/http/session.ts';
import type { BenchUser, MessagingTarget } from './message-clients.ts';
import { projectRoot } from './options.ts';
import { sampleProcess, startChildServer, type ChildServer, type ProcessSample } from './processes.ts';

export const BENCH_PASSWORD = 'bench-password';
const SESSION_MAX_AGE_MS = 24 * 60 * 60 * 1000;
const DB_NAME = 'parley';

export interface ParleyFixture {
  server: ChildServer;
  db: Db;
  engine: EmbeddedDatabase;
  /** The engine's own process (FerretDB or mongod), for its CPU share. */
  sampleDatabase: () => ProcessSample | undefined;
  /** Users with a signed-in session each: `headers.cookie` opens their sockets and pages. */
  createUsers(count: number, label: string): Promise<BenchUser[]>;
  target(name?: string): MessagingTarget;
  /** Stops Parley, then the engine, and removes the data. */
  cleanup(): Promise<void>;
}

/** What express-session puts in the cookie: "s:" + id + "." + HMAC-SHA256 of the id, base64 without padding. */
export function signedSessionCookie(sessionId: string, secret: string): string {
  const mac = crypto.createHmac('sha256', secret).update(sessionId).digest('base64').replace(/=+$/, '');
  return `${SESSION_COOKIE}=${encodeURIComponent(`s:${sessionId}.${mac}`)}`;
}

let userCounter = 0;

export async function startParleyFixture(env: Record<string, string> = {}): Promise<ParleyFixture> {
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'parley-bench-'));
  const quiet = { info: () => undefined, warn: console.warn, error: console.error };
  const engine = await startEmbeddedDatabase({ engine: 'ferretdb', dataDir, log: quiet });
  const uri = withDatabaseName(engine.uri, DB_NAME);
  const client = await MongoClient.connect(uri, { maxPoolSize: 20 });
  const db = client.db(DB_NAME);
  const secret = crypto.randomBytes(24).toString('hex');
  const enginePid = engine.pid;
  let server: ChildServer;
  try {
    server = await startChildServer({
      name: 'parley',
      script: path.join(projectRoot, 'bench/servers/parley-server.ts'),
      env: {
        NODE_ENV: 'production',
        DATA_DIR: path.join(dataDir, 'app'),
        MONGODB_URI: uri,
        SESSION_SECRET: secret,
        RATE_LIMITS: 'off',
        LOG_LEVEL: 'warn',
        ...env,
      },
      readyPath: '/healthz',
      readyTimeoutMs: 120_000,
    });
  } catch (err) {
    await client.close();
    await engine.stop();
    throw err;
  }

  const passwordHash = hashPassword(BENCH_PASSWORD);

  async function createUsers(count: number, label: string): Promise<BenchUser[]> {
    const hash = await passwordHash;
    const now = new Date();
    const users = Array.from({ length: count }, () => {
      const id = new ObjectId();
      const username = `${label}${++userCounter}`.replace(/[^a-zA-Z0-9_-]/g, '').slice(0, 24);
      return { id, username, sessionId: crypto.randomBytes(24).toString('base64url') };
    });
    for (let i = 0; i < users.length; i += 500) {
      const batch = users.slice(i, i + 500);
      await db.collection('users').insertMany(
        batch.map((u) => ({ _id: u.id, username: u.username, passwordHash: hash, createdAt: now, postCount: 0, replyCount: 0, blocked: [] })),
        { ordered: false },
      );
      await db.collection<{ _id: string }>('usernames').insertMany(
        batch.map((u) => ({ _id: usernameKey(u.username), userId: u.id })),
        { ordered: false },
      );
      const expires = new Date(now.getTime() + SESSION_MAX_AGE_MS);
      await db.collection<{ _id: string }>('sessions').insertMany(
        batch.map((u) => ({
          _id: u.sessionId,
          expires,
          lastModified: now,
          session: {
            cookie: { originalMaxAge: SESSION_MAX_AGE_MS, expires, httpOnly: true, path: '/', sameSite: 'lax', secure: false },
            userId: u.id.toHexString(),
          },
        })),
        { ordered: false },
      );
    }
    return users.map((u) => ({ id: u.id.toHexString(), username: u.username, headers: { cookie: signedSessionCookie(u.sessionId, secret) } }));
  }

  return {
    server,
    db,
    engine,
    sampleDatabase: () => (enginePid ? sampleProcess(enginePid) : undefined),
    createUsers,
    target: (name = 'parley') => ({ name, url: server.url, createUsers }),
    cleanup: async () => {
      await server.stop();
      await client.close();
      await engine.stop();
      await fs.rm(dataDir, { recursive: true, force: true });
    },
  };
}
