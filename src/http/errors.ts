// Errors that carry a message safe to show to a user. Anything else becomes a
// generic 500 page: internals never reach the browser.
import { isCsrfError } from './csrf.ts';

export class HttpError extends Error {
  constructor(
    readonly status: number,
    /** A translation key (or plain text) shown to the user. */
    readonly publicMessage: string,
    /** Values for the message's placeholders. */
    readonly vars?: Record<string, string | number>,
  ) {
    super(publicMessage);
    this.name = 'HttpError';
  }
}

export class NotFoundError extends HttpError {
  constructor(publicMessage = 'error.notFound.body') {
    super(404, publicMessage);
    this.name = 'NotFoundError';
  }
}

export class ForbiddenError extends HttpError {
  constructor(publicMessage = 'error.forbidden.body') {
    super(403, publicMessage);
    this.name = 'ForbiddenError';
  }
}

export class ValidationError extends HttpError {
  constructor(publicMessage: string) {
    super(400, publicMessage);
    this.name = 'ValidationError';
  }
}

/** A member went over a rate limit: 429, saying how long to wait. */
export class RateLimitedError extends HttpError {
  constructor(readonly retryAfterSeconds: number) {
    super(429, 'safety.rateLimited', { seconds: retryAfterSeconds });
    this.name = 'RateLimitedError';
  }
}

/** What the error page (or a JSON client) is told: translation keys and their values. */
export interface PublicError {
  status: number;
  title: string;
  message: string;
  vars?: Record<string, string | number>;
}

export interface ErrorContext {
  /** The body parsers' limits, named in the "too large" message. */
  bodyLimitBytes: number;
  formFieldLimit: number;
  isDatabaseUnavailable(err: unknown): boolean;
}

/** body-parser's own error types for a body over the size or field limit. */
const TOO_LARGE = new Set(['entity.too.large', 'parameters.too.many']);

const TITLES: Record<number, string> = {
  400: 'error.badRequest.title',
  403: 'error.server.title',
  404: 'error.notFound.title',
  413: 'error.tooLarge.title',
  503: 'error.unavailable.title',
};

/**
 * Maps any thrown value to what is safe to show. Only our own HttpErrors and the
 * middleware errors known here say something specific; the rest is a plain 500.
 */
export function publicError(err: unknown, context: ErrorContext): PublicError {
  const page = (status: number, message: string, vars?: PublicError['vars']): PublicError => ({
    status,
    title: TITLES[status] ?? (status >= 500 ? 'error.server.title' : 'error.badRequest.title'),
    message,
    ...(vars ? { vars } : {}),
  });
  if (err instanceof HttpError) return page(err.status, err.publicMessage, err.vars);
  const fields = typeof err === 'object' && err !== null ? (err as { type?: unknown; status?: unknown }) : {};
  if (isCsrfError(err)) return page(403, 'error.csrf');
  if (typeof fields.type === 'string' && TOO_LARGE.has(fields.type)) {
    return page(413, 'error.tooLarge.body', { kb: Math.floor(context.bodyLimitBytes / 1024), fields: context.formFieldLimit });
  }
  // Other client errors from middleware: malformed JSON, an unknown charset, a bad URL escape.
  if (typeof fields.status === 'number' && fields.status >= 400 && fields.status < 500) {
    return page(fields.status, fields.status === 404 ? 'error.notFound.body' : 'error.badRequest.body');
  }
  if (context.isDatabaseUnavailable(err)) return page(503, 'error.unavailable.body');
  return page(500, 'error.server.body');
}
