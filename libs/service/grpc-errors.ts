// How a call may end other than with an answer, in gRPC's own status names. The errors carry
// the status and a message fit for the caller; grpc-handlers.ts turns them into gRPC statuses,
// the one place that does. No imports: the pure modules of a service may throw these.

const GRPC_STATUS_NAMES = [
  'INVALID_ARGUMENT',
  'NOT_FOUND',
  'FAILED_PRECONDITION',
  'PERMISSION_DENIED',
  'UNAUTHENTICATED',
  'RESOURCE_EXHAUSTED',
  'UNAVAILABLE',
] as const;
export type GrpcStatusName = (typeof GRPC_STATUS_NAMES)[number];

/**
 * An error that says how its call ends. CallError is one; an error that must extend another
 * class (a RetryLaterError its Kafka consumer needs, say) says it with this field.
 */
export interface SaysGrpcStatus {
  readonly grpcStatus: GrpcStatusName;
}

/** The base of the errors a call ends with: its status, and a message the caller may read. */
export abstract class CallError extends Error implements SaysGrpcStatus {
  abstract readonly grpcStatus: GrpcStatusName;
  override name = 'CallError';
}

/** The base of the errors of one status; the classes below are the ones a service throws. */
function withStatus<S extends GrpcStatusName>(status: S, className: string) {
  return class extends CallError {
    readonly grpcStatus: S = status;
    override name = className;
  };
}

/** The request itself is wrong: a missing or malformed field. */
export class InvalidArgumentError extends withStatus('INVALID_ARGUMENT', 'InvalidArgumentError') {}

/** What the call names does not exist. */
export class NotFoundError extends withStatus('NOT_FOUND', 'NotFoundError') {}

/** The request is well formed but the state it finds does not allow it (already undone, not yours now). */
export class FailedPreconditionError extends withStatus('FAILED_PRECONDITION', 'FailedPreconditionError') {}

/** The caller is known but may not do this. */
export class PermissionDeniedError extends withStatus('PERMISSION_DENIED', 'PermissionDeniedError') {}

/** No caller could be established: no token, or one that does not verify. */
export class UnauthenticatedError extends withStatus('UNAUTHENTICATED', 'UnauthenticatedError') {}

/** The caller is over a limit; trying again later can succeed. */
export class ResourceExhaustedError extends withStatus('RESOURCE_EXHAUSTED', 'ResourceExhaustedError') {}

/** The service cannot answer now (a dependency is down, or this instance is not the one to ask). */
export class UnavailableError extends withStatus('UNAVAILABLE', 'UnavailableError') {}

/** The status an error says its call ends with, if it says one. */
export function grpcStatusOf(err: unknown): GrpcStatusName | undefined {
  if (!(err instanceof Error)) return undefined;
  const said = (err as Partial<SaysGrpcStatus>).grpcStatus;
  return typeof said === 'string' && (GRPC_STATUS_NAMES as readonly string[]).includes(said) ? said : undefined;
}
