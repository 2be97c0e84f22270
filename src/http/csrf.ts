// Synchroniser-token CSRF protection: the token lives in the session and every
// state-changing form sends it back in the hidden field `_csrf` (or, for scripts,
// the X-CSRF-Token header).
import { csrfSync } from 'csrf-sync';
import type { NextFunction, Request, Response } from 'express';

const csrf = csrfSync({
  getTokenFromRequest: (req) => {
    const body = req.body as Record<string, unknown> | undefined;
    const fromBody = body && typeof body._csrf === 'string' ? body._csrf : undefined;
    const header = req.headers['x-csrf-token'];
    return fromBody ?? (typeof header === 'string' ? header : undefined);
  },
  errorConfig: { statusCode: 403, message: 'error.csrf', code: 'EBADCSRFTOKEN' },
});

export const csrfProtection = csrf.csrfSynchronisedProtection;

/**
 * The session's token, made on first use. Express copies every local into the view's
 * options before rendering, so a getter on res.locals would run for every page and
 * store a session for every anonymous reader; this object only makes the token when a
 * view prints it (`<%= csrfToken %>` calls toString).
 */
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

/** Makes `csrfToken` available to every view; pages without a form create no session. */
export function csrfLocals(req: Request, res: Response, next: NextFunction): void {
  res.locals.csrfToken = new LazyToken(() => csrf.generateToken(req));
  next();
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
