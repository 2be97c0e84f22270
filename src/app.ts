// Builds the Express app from its dependencies. It never listens: server.ts does,
// and tests drive the app directly through supertest.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import type { Config } from './config.ts';
import type { Logger } from './log.ts';
import { avatarUrl } from './accounts/avatar.ts';
import { avatarsRouter, profilesRouter } from './accounts/profiles.ts';
import { accountsRouter } from './accounts/routes.ts';
import type { UserReader } from './accounts/user-cache.ts';
import { forumRouter } from './forum/routes.ts';
import { createForumService } from './forum/service.ts';
import { moderationRouter } from './moderation/routes.ts';
import { messagingRouter } from './messaging/routes.ts';
import { isDatabaseUnavailable } from './db/errors.ts';
import { refuseAnnouncedOversize } from './http/body-limit.ts';
import { securityHeaders } from './http/security-headers.ts';
import { createCsrf } from './http/csrf.ts';
import { NotFoundError, publicError } from './http/errors.ts';
import { currentUser, localization } from './http/locals.ts';
import type { KeyLock } from './db/redis-lock.ts';
import type { Limiters } from './http/rate-limits.ts';
import { viewHelpers } from './http/view-helpers.ts';
import { languageRouter } from './i18n/language-route.ts';
import type { MessagingService } from './messaging/service.ts';
import { unreadBadge } from './messaging/unread-badge.ts';
import type { Mail } from './mail/index.ts';
import { unsubscribeRouter } from './mail/unsubscribe.ts';
import { passwordRouter } from './settings/password-routes.ts';
import { settingsRouter } from './settings/routes.ts';

/** What a 503 tells clients: the driver retries the database every couple of seconds. */
const RETRY_AFTER_SECONDS = '5';

// Started here; kept importable from here.
export { isDatabaseUnavailable };

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export interface AppDeps {
  config: Config;
  log: Logger;
  /** express-session middleware, shared with Socket.IO. */
  session: RequestHandler;
  /** The session secret: it also signs the known-device cookie (accounts/known-device.ts). */
  secret: string;
  /** Reads a user by id, from a short-lived per-process copy when there is one (accounts/user-cache.ts). */
  readUser?: UserReader;
  isDatabaseConnected: () => boolean;
  /** Whether the database answers a ping now (cached for HEALTH_CACHE_MS): what /healthz says. */
  isDatabaseHealthy?: () => Promise<boolean>;
  limiters: Limiters;
  messaging: MessagingService;
  /** Set when writes to one document must be serialised across processes (FerretDB behind several processes). */
  writeLock?: KeyLock;
  /** Closes every socket opened under this session, on any process (sign-out). */
  closeSessionSockets?: (sessionId: string) => void;
  /** Closes every socket of a member on any process, but those of `keepSessionId` (password changed). */
  endUserSessions?: (userId: string, keepSessionId?: string) => void;
  /** Mail (src/mail): password resets, address confirmations. */
  mail?: Mail;
  /** Closes every socket of this user, on any process (a suspension). */
  closeUserSockets?: (userId: string) => void;
  /** `watcherId` no longer sees `userId` come and go, on any process (blocked by `userId`). */
  hidePresence?: (watcherId: string, userId: string) => void;
}

export function createApp(deps: AppDeps): express.Express {
  const { config, log } = deps;
  const app = express();
  app.set('trust proxy', config.trustProxy);
  app.set('view engine', 'ejs');
  app.set('views', path.join(root, 'views'));
  app.disable('x-powered-by');
  if (config.env === 'production') app.enable('view cache');
  // Every view that shows a user shows their avatar (views/partials/avatar.ejs).
  app.locals.avatarUrl = avatarUrl;

  app.use(securityHeaders(config));

  app.get('/healthz', async (_req, res) => {
    // A real round trip when there is one to make (http/health.ts), else the driver's view.
    const ok = deps.isDatabaseHealthy ? await deps.isDatabaseHealthy() : deps.isDatabaseConnected();
    res.status(ok ? 200 : 503).json({ status: ok ? 'ok' : 'unavailable', database: ok ? 'connected' : 'disconnected' });
  });

  const staticOptions = { maxAge: config.env === 'production' ? '1d' : 0 };
  app.use('/static', express.static(path.join(root, 'public'), staticOptions));
  app.use('/vendor/bootstrap', express.static(path.join(root, 'node_modules/bootstrap/dist'), staticOptions));
  app.use('/vendor/jquery', express.static(path.join(root, 'node_modules/jquery/dist'), staticOptions));

  app.use(localization);
  app.use(viewHelpers({ viewsDir: app.get('views') as string, cacheTemplates: app.enabled('view cache') }));

  // While the database is away, pages answer 503 at once rather than hang.
  app.use((req, res, next) => {
    if (deps.isDatabaseConnected()) return next();
    res.status(503).set('Retry-After', RETRY_AFTER_SECONDS);
    res.render('error', { status: 503, title: req.t('error.unavailable.title'), message: req.t('error.unavailable.body') });
  });

  // Neither needs a session: kept before it, they never load or create one.
  app.use(avatarsRouter());
  app.use(languageRouter());

  app.use(refuseAnnouncedOversize(config.limits.bodyLimitBytes));
  // extended: false keeps form fields flat strings: "username[$ne]=" stays a literal key.
  app.use(express.urlencoded({ extended: false, limit: config.limits.bodyLimitBytes, parameterLimit: config.limits.formFieldLimit }));
  app.use(express.json({ limit: config.limits.bodyLimitBytes }));
  // Mail clients POST one-click unsubscribes with no cookie and no CSRF token (RFC 8058).
  app.use(unsubscribeRouter(deps));
  app.use(deps.session);
  const csrf = createCsrf(deps.secret, { secure: config.trustProxy ? 'auto' : false });
  app.use(csrf.locals);
  app.use(csrf.protection);
  app.use(currentUser(deps.readUser));
  app.use(unreadBadge(deps.messaging));

  app.use(accountsRouter(deps));
  app.use(passwordRouter(deps));
  app.use(settingsRouter(deps));
  app.use(profilesRouter());
  const forum = createForumService({ readCacheMs: config.readCacheMs, log, writeLock: deps.writeLock });
  app.use(forumRouter(deps, forum));
  app.use(moderationRouter(deps, forum));
  app.use(messagingRouter(deps));

  app.use((_req, _res, next) => next(new NotFoundError()));

  // One error handler, last. Users see a safe message; the log gets the details.
  const errorContext = { ...config.limits, isDatabaseUnavailable };
  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const shown = publicError(err, errorContext);
    // An outage is not a bug: one line says so; the driver's reconnecting does the rest.
    if (shown.status === 503) log.warn({ url: req.originalUrl, reason: (err as Error).message }, 'database unavailable');
    else if (shown.status >= 500) log.error({ err, url: req.originalUrl }, 'request failed');
    if (res.headersSent) return;
    if (shown.status === 503) res.set('Retry-After', RETRY_AFTER_SECONDS);
    const t = req.t ?? ((key: string) => key);
    const message = t(shown.message, shown.vars);
    res.status(shown.status);
    if (req.accepts(['html', 'json']) === 'json') {
      res.json({ ok: false, error: message });
      return;
    }
    res.render('error', { status: shown.status, title: t(shown.title), message });
  });

  return app;
}
