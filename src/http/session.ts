// express-session backed by MongoDB through connect-mongo. The same middleware
// instance is handed to Socket.IO, so a socket is signed in exactly when its page is.
import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import MongoStore from 'connect-mongo';
import session, { type SessionData, type SessionOptions } from 'express-session';
import type mongoose from 'mongoose';
import type { Config } from '../config.ts';

export const SESSION_COOKIE = 'parley.sid';
const MAX_AGE_MS = 30 * 24 * 60 * 60 * 1000;

declare module 'express-session' {
  interface SessionData {
    userId?: string;
    /** The member's authVersion at sign-in (accounts/user-model.ts): older than theirs now, the session is over. */
    authVersion?: number;
    flash?: { kind: 'success' | 'info' | 'danger'; text: string }[];
  }
}

/**
 * connect-mongo looks a session up with `{ _id, $or: [not expired] }`. FerretDB 1.x runs
 * any filter beyond a bare `_id` as a scan that decodes the whole sessions collection,
 * on every request and every socket handshake: with a thousand stored sessions a page
 * spent most of its time there. This store asks for the `_id` alone and checks the
 * expiry itself, which answers the same on both engines. (Configured as below: no
 * transformId, no crypto, stringify off, so the stored `session` is the object itself.)
 */
class ExactIdMongoStore extends MongoStore {
  private sweepTimer: NodeJS.Timeout | undefined;

  /**
   * Deletes expired sessions every `intervalMs`. connect-mongo's own interval sweep sends
   * its deleteMany unacknowledged (`w: 0`), a request the driver expects no reply to;
   * FerretDB 1.x replied anyway, and the stray reply answered the next command on that
   * connection: pages rendered with another member's session. This sweep waits for its
   * answer like every other write.
   */
  startSweeping(intervalMs: number, onError: (err: unknown) => void): void {
    // The sweep's filter is on `expires`: MongoDB walks this index rather than scanning
    // every session, per process per sweep. A plain index, not a TTL one: FerretDB 1.x
    // has no TTL indexes (and scans anyway; creating one costs it nothing).
    this.collectionP.then((collection) => collection.createIndex({ expires: 1 })).catch(onError);
    this.sweepTimer = setInterval(() => {
      this.sweepExpired().catch(onError);
    }, intervalMs);
    this.sweepTimer.unref();
  }

  async sweepExpired(): Promise<number> {
    const collection = await this.collectionP;
    const result = await collection.deleteMany({ expires: { $lt: new Date() } });
    return result.deletedCount;
  }

  override close(): Promise<void> {
    clearInterval(this.sweepTimer);
    return super.close();
  }

  override get(sid: string, callback: (err: unknown, session?: SessionData | null) => void): void {
    this.collectionP
      .then((collection) => collection.findOne({ _id: sid }))
      .then((doc) => {
        // A document that is not the one asked for is never a session to trust, whatever
        // put it there (a connection out of step answered one request with another's reply).
        if (doc && doc._id !== sid) return callback(new Error('session store answered with another document'));
        if (!doc || (doc.expires && doc.expires.getTime() <= Date.now())) return callback(null, null);
        const stored = doc.session as SessionData & { lastModified?: Date };
        // touchAfter reads this back to decide whether a touch must write.
        if (doc.lastModified) stored.lastModified = doc.lastModified;
        this.emit('get', sid);
        callback(null, stored);
      }, callback);
  }
}

/** SESSION_SECRET, or one generated on first start and kept under DATA_DIR. */
export async function resolveSessionSecret(config: Pick<Config, 'sessionSecret' | 'dataDir'>): Promise<string> {
  if (config.sessionSecret) return config.sessionSecret;
  const file = path.join(config.dataDir, 'session-secret');
  const existing = await fs.readFile(file, 'utf8').catch(() => '');
  if (existing.trim().length >= 32) return existing.trim();
  const secret = crypto.randomBytes(32).toString('hex');
  await fs.mkdir(config.dataDir, { recursive: true });
  // wx: if two processes start at once, the first one's secret wins and both use it.
  await fs.writeFile(file, secret, { mode: 0o600, flag: 'wx' }).catch(() => undefined);
  return (await fs.readFile(file, 'utf8')).trim();
}

export function createSessionMiddleware(
  config: Pick<Config, 'trustProxy' | 'env' | 'sessionSweepMs'>,
  connection: mongoose.Connection,
  secret: string,
  onSweepError: (err: unknown) => void,
) {
  const store = new ExactIdMongoStore({
    client: connection.getClient() as never,
    dbName: connection.db?.databaseName,
    collectionName: 'sessions',
    // FerretDB 1.x has no TTL indexes; our own acknowledged sweep (below) works on both
    // engines. connect-mongo's 'interval' sweep is unacknowledged: never use it.
    autoRemove: 'disabled',
    touchAfter: 60,
    stringify: false,
  });
  const options: SessionOptions = {
    name: SESSION_COOKIE,
    secret,
    store,
    resave: false,
    saveUninitialized: false,
    rolling: false,
    cookie: {
      httpOnly: true,
      sameSite: 'lax',
      // Secure only when a TLS-terminating proxy is trusted; "auto" reads req.secure.
      secure: config.trustProxy ? 'auto' : false,
      maxAge: MAX_AGE_MS,
    },
  };
  store.startSweeping(config.sessionSweepMs, onSweepError);
  return { middleware: session(options), store };
}
