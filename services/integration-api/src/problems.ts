// What the API refuses with, as RFC 9457 problem details (application/problem+json): every
// error carries its status, type and title, and `problemOf` is the one place that turns any
// failure into an answer. The types are documented in docs/integration-api.md#problems.
import { status as GrpcStatus } from '@grpc/grpc-js';
import { KafkaUnavailableError } from '#libs/kafka';
import { HttpError } from '#libs/web';

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  /** Which fields were wrong, for `invalid-request`. */
  errors?: { field: string; message: string }[];
}

export class ApiProblem extends Error {
  constructor(
    readonly status: number,
    readonly slug: string,
    readonly title: string,
    detail: string,
    readonly headers: Record<string, string> = {},
    readonly errors?: Problem['errors'],
  ) {
    super(detail);
    this.name = new.target.name;
  }
}

export class InvalidRequestError extends ApiProblem {
  constructor(detail: string, errors?: Problem['errors']) {
    super(400, 'invalid-request', 'The request is not valid', detail, {}, errors);
  }
}

export class UnauthorizedError extends ApiProblem {
  constructor(detail: string) {
    super(401, 'unauthorized', 'No valid API key', detail, { 'www-authenticate': 'Bearer realm="integration-api"' });
  }
}

export class ScopeMissingError extends ApiProblem {
  constructor(scope: string) {
    super(403, 'scope-missing', 'The API key lacks the scope', `this call needs an API key with the scope ${scope}`);
  }
}

export class NotFoundProblem extends ApiProblem {
  constructor(detail: string) {
    super(404, 'not-found', 'Not found', detail);
  }
}

/** The key's application may not do this to that conversation (it is not its own). */
class NotPermittedProblem extends ApiProblem {
  constructor(detail: string) {
    super(403, 'not-permitted', 'Not permitted for this application', detail);
  }
}

/** The conversation is not in a state that allows it (resolved already, say). */
class ConflictProblem extends ApiProblem {
  constructor(detail: string) {
    super(409, 'conflict', 'The conversation does not allow this now', detail);
  }
}

/** A company-initiated conversation's recipient is not a verified identity of the customer. */
export class RecipientNotVerifiedProblem extends ApiProblem {
  constructor(detail: string) {
    super(422, 'recipient-not-verified', 'The recipient is not a verified identity of the customer', detail);
  }
}

export class IdempotencyKeyReusedError extends ApiProblem {
  constructor() {
    super(409, 'idempotency-key-reused', 'The Idempotency-Key was used for another request', 'this Idempotency-Key was already used with a different body');
  }
}

export class RateLimitedError extends ApiProblem {
  constructor(detail: string, retryAfterMs: number) {
    super(429, 'rate-limited', 'Too many requests', detail, { 'retry-after': String(Math.max(1, Math.ceil(retryAfterMs / 1000))) });
  }
}

export class UnavailableProblem extends ApiProblem {
  constructor(detail: string, retryAfterSeconds = 5) {
    super(503, 'unavailable', 'Try again shortly', detail, { 'retry-after': String(retryAfterSeconds) });
  }
}

/** Where the problem types are described (a relative reference, resolved against the API's address). */
const TYPE_BASE = '/problems/';

/** The one mapping of a failure to its answer; an unknown failure is a 500 that says nothing of itself. */
export function problemOf(err: unknown): { problem: Problem; headers: Record<string, string> } {
  const known = asProblem(err);
  if (!known)
    return { problem: { type: `${TYPE_BASE}internal`, title: 'Internal error', status: 500, detail: 'the request failed; it was logged' }, headers: {} };
  const problem: Problem = { type: `${TYPE_BASE}${known.slug}`, title: known.title, status: known.status, detail: known.message };
  if (known.errors) problem.errors = known.errors;
  return { problem, headers: known.headers };
}

function asProblem(err: unknown): ApiProblem | undefined {
  if (err instanceof ApiProblem) return err;
  if (err instanceof KafkaUnavailableError)
    return new UnavailableProblem('Kafka did not acknowledge the contact in time; send it again with the same Idempotency-Key');
  if (err instanceof HttpError) return fromHttpError(err);
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'number' && typeof (err as { details?: unknown }).details === 'string') return fromGrpc(code, (err as { details: string }).details);
  return undefined;
}

/** libs/web's body errors: 400, 413, 415. */
function fromHttpError(err: HttpError): ApiProblem {
  if (err.status === 413) return new ApiProblem(413, 'body-too-large', 'The body is too large', err.message);
  if (err.status === 415) return new ApiProblem(415, 'unsupported-media-type', 'Send JSON', err.message);
  return new InvalidRequestError(err.message);
}

/** A backend's gRPC status, as the integrator should read it. */
function fromGrpc(code: number, details: string): ApiProblem | undefined {
  if (code === GrpcStatus.NOT_FOUND) return new NotFoundProblem(details);
  if (code === GrpcStatus.INVALID_ARGUMENT) return new InvalidRequestError(details);
  if (code === GrpcStatus.PERMISSION_DENIED) return new NotPermittedProblem(details);
  if (code === GrpcStatus.FAILED_PRECONDITION) return new ConflictProblem(details);
  if (code === GrpcStatus.UNAVAILABLE || code === GrpcStatus.DEADLINE_EXCEEDED || code === GrpcStatus.RESOURCE_EXHAUSTED)
    return new UnavailableProblem('a service behind the API did not answer in time');
  return undefined;
}
