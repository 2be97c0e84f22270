// The only reader of process.env. Everything the app can be told from outside is
// parsed and checked here once, so a bad value stops the start with a clear message
// instead of surfacing later as a confusing failure.
import path from 'node:path';
import { z } from 'zod';

/** A rate written as "<points>/<duration>", e.g. "30/30s" or "10/15m". */
export interface Rate {
  points: number;
  durationSeconds: number;
}

const UNIT_SECONDS = { s: 1, m: 60, h: 3600 } as const;

const rate = z.string().transform((value, ctx): Rate => {
  const match = /^(\d+)\/(\d+)(s|m|h)$/.exec(value.trim());
  if (!match) {
    ctx.addIssue({ code: 'custom', message: `expected "<count>/<number><s|m|h>", such as "30/30s"; got "${value}"` });
    return z.NEVER;
  }
  const points = Number(match[1]);
  const durationSeconds = Number(match[2]) * UNIT_SECONDS[match[3] as keyof typeof UNIT_SECONDS];
  if (points < 1 || durationSeconds < 1) {
    ctx.addIssue({ code: 'custom', message: 'count and duration must both be at least 1' });
    return z.NEVER;
  }
  return { points, durationSeconds };
});

const port = z.coerce.number().int().min(0).max(65535);
const positiveInt = z.coerce.number().int().positive();
const emptyAsUndefined = (v: unknown) => (v === '' ? undefined : v);

const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  PORT: port.default(3000),
  HOST: z.string().min(1).default('0.0.0.0'),
  MONGODB_URI: z.preprocess(emptyAsUndefined, z.string().regex(/^mongodb(\+srv)?:\/\//, 'must start with mongodb:// or mongodb+srv://').optional()),
  DATA_DIR: z.string().min(1).default('./data'),
  DB_ENGINE: z.enum(['auto', 'mongodb', 'ferretdb']).default('auto'),
  REDIS_URL: z.preprocess(emptyAsUndefined, z.string().regex(/^rediss?:\/\//, 'must start with redis:// or rediss://').optional()),
  REDIS_PREFIX: z.string().regex(/^[\w.-]{1,64}$/, 'letters, digits, "_", "-" and "." only, at most 64').default('parley'),
  CROSS_PROCESS_LOCKS: z.enum(['auto', 'on', 'off']).default('auto'),
  SESSION_SECRET: z.preprocess(emptyAsUndefined, z.string().min(16, 'must be at least 16 characters').optional()),
  TRUST_PROXY: z.preprocess(emptyAsUndefined, z.string().optional()),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  RATE_LIMITS: z.enum(['on', 'off']).default('on'),
  MESSAGE_MAX_LENGTH: positiveInt.max(100_000).default(2000),
  MESSAGE_RATE: rate.prefault('30/30s'),
  GROUP_MAX_MEMBERS: positiveInt.min(3).max(100).default(20),
  GROUP_RATE: rate.prefault('20/1h'),
  // How long after sending a message its author may still edit it (deleting has no limit).
  MESSAGE_EDIT_WINDOW_MS: positiveInt.min(1000).default(60 * 60_000),
  // Whether first messages from strangers wait under Requests for members who have not chosen.
  MESSAGE_REQUESTS: z.enum(['on', 'off']).default('on'),
  LOGIN_RATE_PER_IP: rate.prefault('30/15m'),
  LOGIN_RATE_PER_ACCOUNT: rate.prefault('10/15m'),
  REGISTER_RATE: rate.prefault('5/1h'),
  POST_RATE: rate.prefault('10/1m'),
  REPORT_RATE: rate.prefault('10/10m'),
  PREVIEW_RATE: rate.prefault('60/1m'),
  // Each block or unblock writes the other member's inbox too.
  BLOCK_RATE: rate.prefault('20/10m'),
  // The compose form asks as the member types (debounced); each ask is a prefix scan.
  SUGGEST_RATE: rate.prefault('60/1m'),
  // The messages page asks on load, on reconnect and when a conversation appears.
  WATCH_PRESENCE_RATE: rate.prefault('30/1m'),
  // Open tabs and windows of one member on one process: each socket costs memory.
  SOCKETS_PER_MEMBER: positiveInt.max(10_000).default(30),
  POST_TITLE_MAX_LENGTH: positiveInt.max(1000).default(120),
  // 5000 characters of Chinese are 45 KB once form-encoded: inside BODY_LIMIT_BYTES.
  POST_MAX_LENGTH: positiveInt.max(100_000).default(5000),
  MENTIONS_PER_TEXT: positiveInt.max(50).default(5),
  SEARCH_RATE: rate.prefault('30/1m'),
  READ_CACHE_MS: z.coerce.number().int().min(0).max(60_000).default(1000),
  HEALTH_CACHE_MS: z.coerce.number().int().min(0).max(60_000).default(1000),
  BODY_LIMIT_BYTES: positiveInt.default(64 * 1024),
  // Fields in one form: ours have at most five; more is a hand-made request.
  FORM_FIELD_LIMIT: positiveInt.max(10_000).default(100),
  SOCKET_MAX_BUFFER_BYTES: positiveInt.default(32 * 1024),
  // Under the browser's 10 s wait for an acknowledgement, so a stalled database gets an answer.
  MESSAGE_STORE_TIMEOUT_MS: positiveInt.max(60_000).default(5000),
  // The send queue (messaging/group-commit.ts): messages per batch, sends waiting at most,
  // and the longest a new send may expect to wait before it is refused as busy.
  MESSAGE_BATCH_MAX: positiveInt.max(5000).default(500),
  MESSAGE_QUEUE_MAX: positiveInt.max(100_000).default(2000),
  MESSAGE_QUEUE_WAIT_MS: positiveInt.max(60_000).default(100),
  SHUTDOWN_TIMEOUT_MS: positiveInt.default(10_000),
  // How often expired sessions are deleted (FerretDB 1.x has no TTL index to do it).
  SESSION_SWEEP_MS: positiveInt.min(1000).default(10 * 60_000),
  // Against slow clients (slowloris): how long a client may take to send its headers,
  // its whole request, and how long an idle keep-alive connection stays open.
  HEADERS_TIMEOUT_MS: positiveInt.default(20_000),
  REQUEST_TIMEOUT_MS: positiveInt.default(30_000),
  KEEP_ALIVE_TIMEOUT_MS: positiveInt.default(5_000),
  // Mail (src/mail): links in mails start with PUBLIC_URL; without SMTP_URL mails are files.
  PUBLIC_URL: z.preprocess(emptyAsUndefined, z.string().regex(/^https?:\/\/[^/]+$/, 'an origin such as https://forum.example.org (no path, no trailing /)').optional()),
  SMTP_URL: z.preprocess(emptyAsUndefined, z.string().regex(/^smtps?:\/\//, 'must start with smtp:// or smtps://').optional()),
  MAIL_FROM: z.string().min(3).default('Parley <parley@localhost>'),
  MAIL_POLL_MS: positiveInt.max(600_000).default(5000),
  MAIL_RETRY_BASE_MS: positiveInt.default(5000),
  MAIL_RETRY_MAX_MS: positiveInt.default(3_600_000),
  MAIL_MAX_ATTEMPTS: positiveInt.max(1000).default(40),
  SMTP_TIMEOUT_MS: positiveInt.max(600_000).default(20_000),
  UNREAD_MAIL_DELAY_MS: positiveInt.default(15 * 60_000),
  UNREAD_MAIL_INTERVAL_MS: z.coerce.number().int().min(0).default(60 * 60_000),
  PASSWORD_RESET_RATE_PER_ADDRESS: rate.prefault('3/1h'),
  PASSWORD_RESET_RATE_PER_ACCOUNT: rate.prefault('5/1h'),
  EMAIL_CHANGE_RATE: rate.prefault('5/1h'),
}).refine((e) => e.HEADERS_TIMEOUT_MS <= e.REQUEST_TIMEOUT_MS, {
  // Node refuses a server whose headers may take longer than the whole request.
  path: ['HEADERS_TIMEOUT_MS'],
  message: 'must not be longer than REQUEST_TIMEOUT_MS',
}).refine((e) => e.CROSS_PROCESS_LOCKS !== 'on' || e.REDIS_URL !== undefined, {
  path: ['CROSS_PROCESS_LOCKS'],
  message: '"on" needs REDIS_URL (the locks live in Redis)',
});

export type Env = z.infer<typeof envSchema>;

export interface Config {
  env: Env['NODE_ENV'];
  port: number;
  host: string;
  mongodbUri: string | undefined;
  dataDir: string;
  dbEngine: Env['DB_ENGINE'];
  /** Set: this process joins the others through Redis (Socket.IO adapter, shared rate limits, write locks). */
  redisUrl: string | undefined;
  /** Starts every Redis key and channel of this deployment, so several can share one Redis. */
  redisPrefix: string;
  /**
   * Whether writes to one document are serialised across processes with a Redis lock:
   * `auto` does so when REDIS_URL is set and the database is FerretDB, whose updates are
   * not atomic; MongoDB's are, and needs none.
   */
  crossProcessLocks: Env['CROSS_PROCESS_LOCKS'];
  sessionSecret: string | undefined;
  /** Express "trust proxy" value; also decides whether cookies get the Secure flag. */
  trustProxy: boolean | number | string;
  logLevel: Env['LOG_LEVEL'];
  limits: {
    rateLimitsEnabled: boolean;
    messageMaxLength: number;
    messageRate: Rate;
    /** Members of a group conversation at most, its creator included. */
    groupMaxMembers: number;
    /** Groups started and members added, per user. */
    groupRate: Rate;
    /** How long after sending a message may be edited. */
    messageEditWindowMs: number;
    /** Requests on for members who have not chosen (messaging/requests.ts). */
    messageRequestsByDefault: boolean;
    loginRatePerIp: Rate;
    loginRatePerAccount: Rate;
    registerRate: Rate;
    postRate: Rate;
    reportRate: Rate;
    previewRate: Rate;
    blockRate: Rate;
    suggestRate: Rate;
    watchPresenceRate: Rate;
    /** Sockets one member may have open on one process. */
    socketsPerMember: number;
    postTitleMaxLength: number;
    /** Characters in a post's or a reply's body. */
    postMaxLength: number;
    /** @mentions in one post, reply or message that link and notify; the rest stay plain text. */
    mentionsPerText: number;
    searchRate: Rate;
    bodyLimitBytes: number;
    formFieldLimit: number;
    socketMaxBufferBytes: number;
    /** How long a send or mark-read may wait on the database before it is answered "not confirmed". */
    messageStoreTimeoutMs: number;
    messageBatchMax: number;
    messageQueueMax: number;
    messageQueueWaitMs: number;
    headersTimeoutMs: number;
    requestTimeoutMs: number;
    keepAliveTimeoutMs: number;
    /** Reset mails asked for one address, and for one account (whatever address named it). */
    passwordResetRatePerAddress: Rate;
    passwordResetRatePerAccount: Rate;
    /** Confirmation mails a member may ask for (new or changed address). */
    emailChangeRate: Rate;
  };
  /** Mail delivery (src/mail) and the unread-message mail. */
  mail: {
    /** Origin that links in mails start with. */
    publicUrl: string;
    /** Unset: every mail is written to `DATA_DIR/mail/` as an .eml file. */
    smtpUrl: string | undefined;
    from: string;
    pollMs: number;
    retryBaseMs: number;
    retryMaxMs: number;
    maxAttempts: number;
    smtpTimeoutMs: number;
    unreadDelayMs: number;
    /** At most one unread-message mail per member in this time (0: no limit). */
    unreadIntervalMs: number;
  };
  /**
   * How long a process may serve forum pages' data (post lists, posts, replies) from
   * memory; 0 turns that off. Its own writes show at once; another process's within this.
   */
  readCacheMs: number;
  /** How long /healthz reuses its last ping of the database. */
  healthCacheMs: number;
  shutdownTimeoutMs: number;
  /** How often expired sessions are deleted, by an acknowledged write. */
  sessionSweepMs: number;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

function parseTrustProxy(value: string | undefined): boolean | number | string {
  if (value === undefined || value === 'false') return false;
  if (value === 'true') return true;
  if (/^\d+$/.test(value)) return Number(value);
  return value; // e.g. "loopback" or a list of addresses, as Express accepts
}

/** Reads the given environment (process.env by default); throws ConfigError naming every bad value. */
export function loadConfig(source: NodeJS.ProcessEnv = process.env): Config {
  const parsed = envSchema.safeParse(source);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `  ${issue.path.join('.')}: ${issue.message}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  return Object.freeze({
    env: e.NODE_ENV,
    port: e.PORT,
    host: e.HOST,
    mongodbUri: e.MONGODB_URI,
    dataDir: path.resolve(e.DATA_DIR),
    dbEngine: e.DB_ENGINE,
    redisUrl: e.REDIS_URL,
    redisPrefix: e.REDIS_PREFIX,
    crossProcessLocks: e.CROSS_PROCESS_LOCKS,
    sessionSecret: e.SESSION_SECRET,
    trustProxy: parseTrustProxy(e.TRUST_PROXY),
    logLevel: e.LOG_LEVEL,
    limits: Object.freeze({
      rateLimitsEnabled: e.RATE_LIMITS === 'on',
      messageMaxLength: e.MESSAGE_MAX_LENGTH,
      messageRate: e.MESSAGE_RATE,
      groupMaxMembers: e.GROUP_MAX_MEMBERS,
      groupRate: e.GROUP_RATE,
      messageEditWindowMs: e.MESSAGE_EDIT_WINDOW_MS,
      messageRequestsByDefault: e.MESSAGE_REQUESTS === 'on',
      loginRatePerIp: e.LOGIN_RATE_PER_IP,
      loginRatePerAccount: e.LOGIN_RATE_PER_ACCOUNT,
      registerRate: e.REGISTER_RATE,
      postRate: e.POST_RATE,
      reportRate: e.REPORT_RATE,
      previewRate: e.PREVIEW_RATE,
      blockRate: e.BLOCK_RATE,
      suggestRate: e.SUGGEST_RATE,
      watchPresenceRate: e.WATCH_PRESENCE_RATE,
      socketsPerMember: e.SOCKETS_PER_MEMBER,
      postTitleMaxLength: e.POST_TITLE_MAX_LENGTH,
      postMaxLength: e.POST_MAX_LENGTH,
      mentionsPerText: e.MENTIONS_PER_TEXT,
      searchRate: e.SEARCH_RATE,
      bodyLimitBytes: e.BODY_LIMIT_BYTES,
      formFieldLimit: e.FORM_FIELD_LIMIT,
      socketMaxBufferBytes: e.SOCKET_MAX_BUFFER_BYTES,
      messageStoreTimeoutMs: e.MESSAGE_STORE_TIMEOUT_MS,
      messageBatchMax: e.MESSAGE_BATCH_MAX,
      messageQueueMax: e.MESSAGE_QUEUE_MAX,
      messageQueueWaitMs: e.MESSAGE_QUEUE_WAIT_MS,
      headersTimeoutMs: e.HEADERS_TIMEOUT_MS,
      requestTimeoutMs: e.REQUEST_TIMEOUT_MS,
      keepAliveTimeoutMs: e.KEEP_ALIVE_TIMEOUT_MS,
      passwordResetRatePerAddress: e.PASSWORD_RESET_RATE_PER_ADDRESS,
      passwordResetRatePerAccount: e.PASSWORD_RESET_RATE_PER_ACCOUNT,
      emailChangeRate: e.EMAIL_CHANGE_RATE,
    }),
    mail: Object.freeze({
      publicUrl: e.PUBLIC_URL ?? `http://localhost:${e.PORT}`,
      smtpUrl: e.SMTP_URL,
      from: e.MAIL_FROM,
      pollMs: e.MAIL_POLL_MS,
      retryBaseMs: e.MAIL_RETRY_BASE_MS,
      retryMaxMs: e.MAIL_RETRY_MAX_MS,
      maxAttempts: e.MAIL_MAX_ATTEMPTS,
      smtpTimeoutMs: e.SMTP_TIMEOUT_MS,
      unreadDelayMs: e.UNREAD_MAIL_DELAY_MS,
      unreadIntervalMs: e.UNREAD_MAIL_INTERVAL_MS,
    }),
    readCacheMs: e.READ_CACHE_MS,
    healthCacheMs: e.HEALTH_CACHE_MS,
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
    sessionSweepMs: e.SESSION_SWEEP_MS,
  });
}
