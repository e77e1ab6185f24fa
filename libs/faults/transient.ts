// One reading of failures for every service: a transient fault (a dependency that is down,
// restarting or unreachable) is waited for and retried without limit; anything else is
// permanent for the work at hand. Modelled on kafkajs' `retriable` flag: an error says whether
// trying again later can succeed, and wrapped errors are looked through.
import { MongoError, MongoNetworkError, MongoServerSelectionError } from 'mongodb';

/** Thrown by code that knows its failure is temporary (a dependency is down): retried without limit. */
export class TransientError extends Error {
  readonly retriable = true;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TransientError';
  }
}

/** Node's socket and resolver codes for a peer that is down, restarting or unreachable. */
const SOCKET_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'ENETRESET',
  'ENOTCONN',
  'EAI_AGAIN',
  'ESOCKETTIMEDOUT',
]);

/** MongoDB server codes of a node that is stepping down, shutting down or not primary now. */
const MONGO_CODES = new Set([
  6, // HostUnreachable
  7, // HostNotFound
  89, // NetworkTimeout
  91, // ShutdownInProgress
  189, // PrimarySteppedDown
  262, // ExceededTimeLimit
  9001, // SocketException
  10107, // NotWritablePrimary
  11600, // InterruptedAtShutdown
  11602, // InterruptedDueToReplStateChange
  13435, // NotPrimaryNoSecondaryOk
  13436, // NotPrimaryOrSecondary
]);

/** Driver labels meaning "the connection or the node failed, the operation may succeed again". */
const MONGO_LABELS = ['RetryableWriteError', 'ResetPool', 'TransientTransactionError', 'InterruptInUseConnections', 'SystemOverloadedError'];

/** kafkajs errors that mean the broker or the network, whatever their `retriable` flag says. */
const KAFKA_CONNECTION_ERRORS = new Set([
  'KafkaJSConnectionError',
  'KafkaJSConnectionClosedError',
  'KafkaJSRequestTimeoutError',
  'KafkaJSBrokerNotFound',
  'KafkaJSLockTimeout',
]);

/** Errors that say themselves whether they are worth retrying. */
const NAMED_TRANSIENT = new Set([
  'TransientError',
  'KafkaUnavailableError',
  'MongoPoolClearedError',
  'MongoWaitQueueTimeoutError',
  'MongoOperationTimeoutError',
]);

/** gRPC status codes UNAVAILABLE and DEADLINE_EXCEEDED (a peer service restarting or slow). */
const GRPC_TRANSIENT = new Set([14, 4]);

/**
 * True when the failure is a dependency being unavailable, so the same work can succeed later
 * unchanged: retry it without limit, never dead-letter it. Looks through `cause`, kafkajs'
 * `originalError` and AggregateError's `errors` (Node reports a refused dual-stack connect so).
 */
export function isTransient(err: unknown): boolean {
  return someInChain(err, isTransientItself);
}

/** 'transient' or 'permanent', for logs and metrics. */
export function faultKind(err: unknown): 'transient' | 'permanent' {
  return isTransient(err) ? 'transient' : 'permanent';
}

function isTransientItself(err: object): boolean {
  const e = err as { name?: unknown; code?: unknown; retriable?: unknown; metadata?: unknown; details?: unknown };
  if (err instanceof TransientError || (typeof e.name === 'string' && NAMED_TRANSIENT.has(e.name))) return true;
  if (err instanceof MongoNetworkError || err instanceof MongoServerSelectionError) return true;
  if (err instanceof MongoError) {
    if (MONGO_LABELS.some((label) => err.hasErrorLabel(label))) return true;
    // MongoBulkWriteError copies the fields of a driver error it wraps, without a cause: a
    // network error leaves `beforeHandshake`, a server selection failure its topology `reason`.
    const wrapped = err as { beforeHandshake?: unknown; reason?: unknown };
    if (typeof wrapped.beforeHandshake === 'boolean') return true;
    if (typeof wrapped.reason === 'object' && wrapped.reason !== null && 'servers' in wrapped.reason) return true;
    if (typeof err.code === 'number' && MONGO_CODES.has(err.code)) return true;
    return false;
  }
  if (typeof e.name === 'string' && e.name.startsWith('KafkaJS')) {
    // KafkaJSNumberOfRetriesExceeded and other non-retriable wrappers are judged by what they wrap.
    return e.retriable === true || KAFKA_CONNECTION_ERRORS.has(e.name);
  }
  if (typeof e.code === 'string' && SOCKET_CODES.has(e.code)) return true;
  // A gRPC ServiceError carries metadata and details beside its numeric status code.
  if (typeof e.code === 'number' && e.metadata !== undefined && typeof e.details === 'string') return GRPC_TRANSIENT.has(e.code);
  return e.retriable === true;
}

/** True when `test` holds for the error or one it wraps (`cause`, kafkajs' `originalError`, AggregateError's `errors`). */
export function someInChain(err: unknown, test: (e: object) => boolean, seen = new Set<unknown>()): boolean {
  if (typeof err !== 'object' || err === null || seen.has(err) || seen.size > 20) return false;
  seen.add(err);
  if (test(err)) return true;
  const e = err as { cause?: unknown; originalError?: unknown; errors?: unknown };
  if (someInChain(e.cause, test, seen) || someInChain(e.originalError, test, seen)) return true;
  return Array.isArray(e.errors) && e.errors.some((inner) => someInChain(inner, test, seen));
}
