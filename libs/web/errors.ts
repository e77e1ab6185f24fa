// What the HTTP edges of the desk and the console refuse with: each error carries the status it
// is answered with, so the one place per service that turns errors into answers reads the
// status off the error instead of keeping a table of its own.
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** 400: the request itself is wrong; the message says what to change. */
export class BadRequestError extends HttpError {
  constructor(message: string) {
    super(400, message);
  }
}

/** 401: no session, an ended one, or a wrong id or password at sign-in. */
export class NotSignedInError extends HttpError {
  constructor(message = 'not signed in, or the session has expired') {
    super(401, message);
  }
}

/** 403: signed in (or not needing to be), but not allowed this: role, origin, CSRF token. */
export class ForbiddenError extends HttpError {
  constructor(message: string) {
    super(403, message);
  }
}

export class NotFoundError extends HttpError {
  constructor(message: string) {
    super(404, message);
  }
}

export class BodyTooLargeError extends HttpError {
  constructor(maxBytes: number) {
    super(413, `request body is larger than ${Math.round(maxBytes / 1024)} KB`);
  }
}

export class UnsupportedBodyError extends HttpError {
  constructor(message: string) {
    super(415, message);
  }
}

/** 429 with Retry-After in whole seconds, at least one. */
export class TooManyRequestsError extends HttpError {
  constructor(
    message: string,
    readonly retryAfterMs: number,
  ) {
    super(429, message, { 'retry-after': String(Math.max(1, Math.ceil(retryAfterMs / 1000))) });
  }
}
