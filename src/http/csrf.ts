// CSRF protection: every state-changing form sends a token back in the hidden field
// `_csrf` (or, for scripts, the X-CSRF-Token header).
//
// - Signed in: a synchroniser token kept in the member's session (csrf-sync).
// - Signed out (the sign-in and registration forms): nothing is stored. A visitor gets a
//   random nonce in a cookie, and the form's token is an HMAC of that nonce under the
//   session secret (OWASP's "signed double-submit cookie"): another site can neither
//   read the cookie nor make the token. Storing a session per anonymous page view let a
//   loop of cookieless requests fill the session store.
import crypto from 'node:crypto';
import { parse as parseCookies } from 'cookie';
import { csrfSync } from 'csrf-sync';
import type { Request, RequestHandler, Response } from 'express';

const csrf = csrfSync({
  getTokenFromRequest: (req) => tokenFromRequest(req),
  errorConfig: { statusCode: 403, message: 'error.csrf', code: 'EBADCSRFTOKEN' },
});

export const CSRF_COOKIE = 'parley.csrf';
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

function tokenFromRequest(req: Request): string | undefined {
  const body = req.body as Record<string, unknown> | undefined;
  const header = req.headers['x-csrf-token'];
  if (body && typeof body._csrf === 'string') return body._csrf;
  return typeof header === 'string' ? header : undefined;
}

function csrfError(): Error {
  return Object.assign(new Error('error.csrf'), { code: 'EBADCSRFTOKEN', status: 403 });
}

const isSignedIn = (req: Request) => typeof req.session?.userId === 'string';

/** The middleware that checks tokens, and the one that offers them to views. */
export function createCsrf(secret: string, options: { secure: boolean | 'auto' }): { protection: RequestHandler; locals: RequestHandler } {
  const sign = (nonce: string) => crypto.createHmac('sha256', secret).update(`csrf:${nonce}`).digest('base64url');

  /** The signed-out visitor's token, setting their nonce cookie first if they have none. */
  function anonymousToken(req: Request, res: Response): string {
    let nonce = parseCookies(req.headers.cookie ?? '')[CSRF_COOKIE];
    if (!nonce || !/^[\w-]{22,64}$/.test(nonce)) {
      nonce = crypto.randomBytes(18).toString('base64url');
      res.cookie(CSRF_COOKIE, nonce, { httpOnly: true, sameSite: 'lax', secure: options.secure === 'auto' ? req.secure : options.secure, path: '/' });
    }
    return sign(nonce);
  }

  function anonymousTokenIsValid(req: Request): boolean {
    const nonce = parseCookies(req.headers.cookie ?? '')[CSRF_COOKIE];
    const sent = tokenFromRequest(req);
    if (!nonce || !sent) return false;
    const expected = Buffer.from(sign(nonce));
    const actual = Buffer.from(sent);
    return actual.length === expected.length && crypto.timingSafeEqual(actual, expected);
  }

  return {
    protection(req, res, next) {
      if (SAFE_METHODS.has(req.method)) return next();
      if (isSignedIn(req)) return csrf.csrfSynchronisedProtection(req, res, next);
      next(anonymousTokenIsValid(req) ? undefined : csrfError());
    },
    /**
     * Makes `csrfToken` available to every view. Express copies every local into the
     * view's options before rendering, so a getter on res.locals would run for every
     * page; this object only makes the token when a view prints it (`<%= csrfToken %>`
     * calls toString).
     */
    locals(req, res, next) {
      res.locals.csrfToken = new LazyToken(() => (isSignedIn(req) ? csrf.generateToken(req) : anonymousToken(req, res)));
      next();
    },
  };
}

/** A token made on first use (see `locals` below). */
class LazyToken {
  private value: string | undefined;
  constructor(private readonly make: () => string) {}
  toString(): string {
    return (this.value ??= this.make());
  }
  toJSON(): string {
    return this.toString();
  }
}

/**
 * Makes the session's token now. Called at sign-in: a fresh session has none, and two
 * tabs opened right after signing in would otherwise each make one and save it, the
 * last save winning, so the other tab's forms failed once with "form expired".
 */
export function ensureCsrfToken(req: Request): void {
  csrf.generateToken(req);
}

export function isCsrfError(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === 'EBADCSRFTOKEN';
}
