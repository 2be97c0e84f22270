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

/** Makes `csrfToken` available to every view; generated lazily, so read-only pages create no session. */
export function csrfLocals(req: Request, res: Response, next: NextFunction): void {
  let token: string | undefined;
  Object.defineProperty(res.locals, 'csrfToken', {
    enumerable: true,
    get: () => (token ??= csrf.generateToken(req)),
  });
  next();
}

export function isCsrfError(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === 'EBADCSRFTOKEN';
}
