// Builds the Express app from its dependencies. It never listens: server.ts does,
// and tests drive the app directly through supertest.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import helmet from 'helmet';
import type { Config } from './config.ts';
import type { Logger } from './log.ts';
import { avatarUrl } from './accounts/avatar.ts';
import { avatarsRouter, profilesRouter } from './accounts/profiles.ts';
import { accountsRouter } from './accounts/routes.ts';
import { forumRouter } from './forum/routes.ts';
import { messagingRouter } from './messaging/routes.ts';
import { csrfLocals, csrfProtection, isCsrfError } from './http/csrf.ts';
import { HttpError, NotFoundError } from './http/errors.ts';
import { currentUser, localization } from './http/locals.ts';
import type { KeyLock } from './db/redis-lock.ts';
import type { Limiters } from './http/rate-limits.ts';
import { viewHelpers } from './http/view-helpers.ts';
import { languageRouter } from './i18n/language-route.ts';
import type { MessagingService } from './messaging/service.ts';
import { unreadBadge } from './messaging/unread-badge.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export interface AppDeps {
  config: Config;
  log: Logger;
  /** express-session middleware, shared with Socket.IO. */
  session: RequestHandler;
  isDatabaseConnected: () => boolean;
  limiters: Limiters;
  messaging: MessagingService;
  /** Set when writes to one document must be serialised across processes (FerretDB behind several processes). */
  writeLock?: KeyLock;
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

  app.use(
    helmet({
      contentSecurityPolicy: {
        directives: {
          defaultSrc: ["'self'"],
          scriptSrc: ["'self'"],
          styleSrc: ["'self'"],
          imgSrc: ["'self'", 'data:'],
          connectSrc: ["'self'"],
          formAction: ["'self'"],
          frameAncestors: ["'none'"],
          objectSrc: ["'none'"],
          // Not behind TLS in development: do not force https on localhost.
          upgradeInsecureRequests: config.trustProxy ? [] : null,
        },
      },
      strictTransportSecurity: Boolean(config.trustProxy),
    }),
  );

  app.get('/healthz', (_req, res) => {
    const ok = deps.isDatabaseConnected();
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
    res.status(503).set('Retry-After', '5');
    res.render('error', { status: 503, title: req.t('error.unavailable.title'), message: req.t('error.unavailable.body') });
  });

  // Neither needs a session: kept before it, they never load or create one.
  app.use(avatarsRouter());
  app.use(languageRouter());

  // extended: false keeps form fields flat strings: "username[$ne]=" stays a literal key.
  app.use(express.urlencoded({ extended: false, limit: config.limits.bodyLimitBytes, parameterLimit: 100 }));
  app.use(express.json({ limit: config.limits.bodyLimitBytes }));
  app.use(deps.session);
  app.use(csrfLocals);
  app.use(csrfProtection);
  app.use(currentUser);
  app.use(unreadBadge(deps.messaging));

  app.use(accountsRouter(deps));
  app.use(profilesRouter());
  app.use(forumRouter(deps));
  app.use(messagingRouter(deps));

  app.use((_req, _res, next) => next(new NotFoundError()));

  // One error handler, last. Users see a safe message; the log gets the details.
  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    let status = 500;
    let message = 'error.server.body';
    if (err instanceof HttpError) {
      status = err.status;
      message = err.publicMessage;
    } else if (isCsrfError(err)) {
      status = 403;
      message = 'error.csrf';
    } else if (typeof err === 'object' && err !== null && (err as { type?: string }).type === 'entity.too.large') {
      status = 413;
      message = 'error.tooLarge';
    } else if (typeof err === 'object' && err !== null && 'status' in err && typeof err.status === 'number' && err.status < 500) {
      status = err.status;
      message = 'error.server.body';
    } else if (isDatabaseUnavailable(err)) {
      status = 503;
      message = 'error.unavailable.body';
    }
    if (status >= 500) log.error({ err, url: req.originalUrl }, 'request failed');
    if (res.headersSent) return;
    const t = req.t ?? ((key: string) => key);
    const titleKey = status === 404 ? 'error.notFound.title' : status === 503 ? 'error.unavailable.title' : 'error.server.title';
    res.status(status);
    if (req.accepts(['html', 'json']) === 'json') {
      res.json({ ok: false, error: t(message) });
      return;
    }
    res.render('error', { status, title: t(titleKey), message: t(message) });
  });

  return app;
}

/**
 * Errors that mean "the database is away", as opposed to a bug: the driver's, and a
 * cross-process write lock that Redis could not give (FerretDB behind several processes
 * cannot be written safely without it).
 */
export function isDatabaseUnavailable(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const name = (err as { name?: string }).name ?? '';
  return /MongoServerSelectionError|MongoNetworkError|MongoNotConnectedError|MongoTopologyClosedError|MongoNetworkTimeoutError|LockUnavailableError/.test(name);
}
