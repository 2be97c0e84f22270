// Errors that carry a message safe to show to a user. Anything else becomes a
// generic 500 page: internals never reach the browser.
export class HttpError extends Error {
  constructor(
    readonly status: number,
    /** A translation key (or plain text) shown to the user. */
    readonly publicMessage: string,
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

export class ValidationError extends HttpError {
  constructor(publicMessage: string) {
    super(400, publicMessage);
    this.name = 'ValidationError';
  }
}
