// The gRPC edge of every service: a handler's failure becomes a status here and nowhere else.
//   an error that says its status (grpc-errors.ts)  → that status, its message
//   a transient fault (libs/faults)                  → UNAVAILABLE, logged as a warning
//   anything else                                    → INTERNAL, logged
// Log lines name the call and the error's kind, never its message: a driver's message may
// quote the customer data it was handling (a duplicate key names the e-mail address).
import { Metadata, status, type handleUnaryCall, type ServerUnaryCall, type ServiceError } from '@grpc/grpc-js';
import { faultKind, isTransient } from '../faults';
import type { Logger } from '../observability/logger';
import { grpcStatusOf } from './grpc-errors';

export interface GrpcEdge {
  /** The service's name, as callers read it in an UNAVAILABLE message. */
  service: string;
  logger: Logger;
}

/** A unary method whose handler resolves to the answer; any failure ends the call with its status. */
export function unaryHandler<Req, Res>(edge: GrpcEdge, handle: (call: ServerUnaryCall<Req, Res>) => Promise<Res>): handleUnaryCall<Req, Res> {
  return (call, callback) => {
    let answer: Promise<Res>;
    try {
      answer = handle(call);
    } catch (err) {
      answer = Promise.reject(err);
    }
    answer.then(
      (res) => callback(null, res),
      (err: unknown) => callback(toServiceError(edge, call.getPath(), err)),
    );
  };
}

/** The status a failed call ends with (see the table at the top). */
export function toServiceError(edge: GrpcEdge, path: string, err: unknown): ServiceError {
  const said = grpcStatusOf(err);
  if (said) return serviceError(status[said], (err as Error).message);
  if (isServiceError(err)) return err;
  const fault = faultKind(err);
  if (isTransient(err)) {
    edge.logger.warn({ call: path, ...kindOf(err), fault }, 'call failed: a dependency is unavailable');
    return serviceError(status.UNAVAILABLE, `${edge.service} cannot answer just now: something it depends on is unavailable; try again shortly`);
  }
  edge.logger.error({ call: path, ...kindOf(err), fault }, 'call failed');
  return serviceError(status.INTERNAL, 'internal error; see the service log');
}

export function serviceError(code: status, details: string): ServiceError {
  return Object.assign(new Error(details), { code, details, metadata: new Metadata() });
}

/** A status already made (by grpc-js, or a call to another service passed on). */
function isServiceError(err: unknown): err is ServiceError {
  const e = err as Partial<ServiceError> | null;
  return typeof e === 'object' && e !== null && typeof e.code === 'number' && e.code in status && typeof e.details === 'string';
}

/** What a log line may say of an error: its class, its code and where it was thrown, not its message. */
function kindOf(err: unknown): Record<string, unknown> {
  if (!(err instanceof Error)) return { errorName: typeof err };
  const code = (err as { code?: unknown }).code;
  const frames = err.stack
    ?.split('\n')
    .filter((line) => line.trimStart().startsWith('at '))
    .slice(0, 5)
    .map((line) => line.trim());
  return { errorName: err.name, ...(code !== undefined ? { errorCode: code } : {}), ...(frames?.length ? { stack: frames } : {}) };
}
