import { Metadata, status, type ServerUnaryCall, type ServiceError } from '@grpc/grpc-js';
import { MongoNetworkError } from 'mongodb';
import { describe, expect, it, vi } from 'vitest';
import { TransientError } from '../faults';
import type { Logger } from '../observability/logger';
import {
  FailedPreconditionError,
  InvalidArgumentError,
  NotFoundError,
  PermissionDeniedError,
  ResourceExhaustedError,
  UnauthenticatedError,
  UnavailableError,
  type SaysGrpcStatus,
} from './grpc-errors';
import { serviceError, toServiceError, unaryHandler } from './grpc-handlers';

function edge() {
  const logger = { warn: vi.fn(), error: vi.fn() };
  return { edge: { service: 'routing', logger: logger as unknown as Logger }, logger };
}

describe('the gRPC edge', () => {
  it('ends a call with the status its error says, and its message', () => {
    const { edge: e, logger } = edge();
    const cases: [Error, status][] = [
      [new InvalidArgumentError('name is too long'), status.INVALID_ARGUMENT],
      [new NotFoundError('no customer c1'), status.NOT_FOUND],
      [new FailedPreconditionError('already undone'), status.FAILED_PRECONDITION],
      [new PermissionDeniedError('not yours'), status.PERMISSION_DENIED],
      [new UnauthenticatedError('no token'), status.UNAUTHENTICATED],
      [new ResourceExhaustedError('over the limit'), status.RESOURCE_EXHAUSTED],
      [new UnavailableError('not the active instance'), status.UNAVAILABLE],
    ];
    for (const [err, code] of cases) expect(toServiceError(e, '/x/Y', err)).toMatchObject({ code, details: err.message });
    expect(logger.warn).not.toHaveBeenCalled();
    expect(logger.error).not.toHaveBeenCalled();
  });

  it('takes the status of an error that cannot extend CallError but says one', () => {
    class Standby extends Error implements SaysGrpcStatus {
      readonly grpcStatus = 'UNAVAILABLE';
    }
    expect(toServiceError(edge().edge, '/x/Y', new Standby('reconnect'))).toMatchObject({ code: status.UNAVAILABLE, details: 'reconnect' });
  });

  it('passes a status already made', () => {
    const made = serviceError(status.ALREADY_EXISTS, 'exists');
    expect(toServiceError(edge().edge, '/x/Y', made)).toBe(made);
  });

  it('answers a transient fault with UNAVAILABLE, and anything else with INTERNAL, logging neither message', () => {
    const { edge: e, logger } = edge();
    const down = new MongoNetworkError('connect ECONNREFUSED 10.0.0.1:27017');
    expect(toServiceError(e, '/x/Y', down)).toMatchObject({ code: status.UNAVAILABLE, details: expect.stringMatching(/^routing cannot answer just now/) });
    expect(toServiceError(e, '/x/Y', new TransientError('broker down'))).toMatchObject({ code: status.UNAVAILABLE });
    const leaky = Object.assign(new Error('E11000 duplicate key dup key: { email: "ana@example.com" }'), { code: 11000 });
    expect(toServiceError(e, '/x/Y', leaky)).toMatchObject({ code: status.INTERNAL, details: 'internal error; see the service log' });
    expect(toServiceError(e, '/x/Y', 'a string')).toMatchObject({ code: status.INTERNAL });
    expect(logger.warn).toHaveBeenCalledTimes(2);
    expect(logger.error).toHaveBeenCalledTimes(2);
    expect(logger.error.mock.calls[0]![0]).toMatchObject({ call: '/x/Y', errorName: 'Error', errorCode: 11000, fault: 'permanent' });
    expect(JSON.stringify([...logger.warn.mock.calls, ...logger.error.mock.calls])).not.toMatch(/ana@example|10\.0\.0\.1|broker down/);
  });

  it('answers a unary call with what its handler resolves to, or the status of what it throws', async () => {
    const { edge: e } = edge();
    const call = { getPath: () => '/x/Y', metadata: new Metadata(), request: { id: 'c1' } } as unknown as ServerUnaryCall<{ id: string }, { ok: boolean }>;
    const answer = (handle: () => Promise<{ ok: boolean }>) =>
      new Promise<[ServiceError | null, unknown]>((resolve) => unaryHandler(e, handle)(call, (err, res) => resolve([err as ServiceError | null, res])));
    expect(await answer(async () => ({ ok: true }))).toEqual([null, { ok: true }]);
    expect((await answer(async () => Promise.reject(new NotFoundError('no c1'))))[0]).toMatchObject({ code: status.NOT_FOUND, details: 'no c1' });
    expect(
      (
        await answer(() => {
          throw new InvalidArgumentError('bad');
        })
      )[0],
    ).toMatchObject({ code: status.INVALID_ARGUMENT });
  });
});
