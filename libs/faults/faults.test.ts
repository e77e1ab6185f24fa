import net from 'node:net';
import { KafkaJSConnectionError, KafkaJSNonRetriableError, KafkaJSNumberOfRetriesExceeded, KafkaJSProtocolError } from 'kafkajs';
import { MongoClient, MongoServerError } from 'mongodb';
import { describe, expect, it } from 'vitest';
import { InvalidEventError } from '../kafka/errors';
import { KafkaUnavailableError } from '../kafka/producer';
import { backoffMs, isTransient, TransientError } from '.';

/** A loopback port nobody listens on. */
async function closedPort(): Promise<number> {
  const server = net.createServer().listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((r) => server.close(r));
  return port;
}

async function rejection(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => {
      throw new Error('expected a failure');
    },
    (err: unknown) => err,
  );
}

describe('transient or permanent', () => {
  it('a store that cannot be reached is transient (server selection, the refused socket inside it)', async () => {
    const client = new MongoClient(`mongodb://127.0.0.1:${await closedPort()}`, { serverSelectionTimeoutMS: 100 });
    const err = await rejection(client.db('x').command({ ping: 1 }));
    expect((err as Error).name).toBe('MongoServerSelectionError');
    expect(isTransient(err)).toBe(true);
    expect(isTransient((err as Error).cause)).toBe(true);
    await client.close();
  });

  it('a refused or reset socket is transient', async () => {
    const port = await closedPort();
    const refused = await new Promise<Error>((resolve) => net.connect(port, '127.0.0.1').once('error', resolve));
    expect((refused as NodeJS.ErrnoException).code).toBe('ECONNREFUSED');
    expect(isTransient(refused)).toBe(true);
    // A server that drops every connection at once.
    const dropping = net.createServer((s) => s.resetAndDestroy()).listen(0, '127.0.0.1');
    await new Promise((r) => dropping.once('listening', r));
    const reset = await new Promise<Error>((resolve) => {
      const s = net.connect((dropping.address() as net.AddressInfo).port, '127.0.0.1');
      s.once('connect', () => s.write('hello'));
      s.once('error', resolve);
    });
    expect((reset as NodeJS.ErrnoException).code).toMatch(/^(ECONNRESET|EPIPE)$/);
    expect(isTransient(reset)).toBe(true);
    dropping.close();
  });

  it('a connection the store closed in the middle of an operation is transient', async () => {
    // Accepts, reads the handshake, closes: the driver reports a MongoNetworkError.
    const closing = net.createServer((s) => s.once('data', () => s.destroy())).listen(0, '127.0.0.1');
    await new Promise((r) => closing.once('listening', r));
    const client = new MongoClient(`mongodb://127.0.0.1:${(closing.address() as net.AddressInfo).port}`, { serverSelectionTimeoutMS: 300 });
    const err = await rejection(client.db('x').command({ ping: 1 }));
    expect(isTransient(err)).toBe(true);
    await client.close();
    closing.close();
  });

  it('MongoDB server errors: not primary, shutting down and retryable labels are transient; others are not', () => {
    expect(isTransient(new MongoServerError({ code: 10107, codeName: 'NotWritablePrimary', errmsg: 'not primary' }))).toBe(true);
    expect(isTransient(new MongoServerError({ code: 11600, errmsg: 'interrupted at shutdown' }))).toBe(true);
    expect(isTransient(new MongoServerError({ code: 2, errmsg: 'x', errorLabels: ['RetryableWriteError'] }))).toBe(true);
    expect(isTransient(new MongoServerError({ code: 11000, errmsg: 'E11000 duplicate key error' }))).toBe(false);
    expect(isTransient(new MongoServerError({ code: 2, errmsg: 'BadValue' }))).toBe(false);
  });

  it('kafkajs: retriable and connection errors are transient, also wrapped in retries exceeded; non-retriable ones are not', () => {
    const connection = new KafkaJSConnectionError('Connection error: connect ECONNREFUSED 127.0.0.1:9092', { broker: '127.0.0.1:9092' });
    expect(isTransient(connection)).toBe(true);
    expect(isTransient(new KafkaJSNumberOfRetriesExceeded(connection, { retryCount: 5, retryTime: 2000 }))).toBe(true);
    expect(isTransient(new KafkaJSNumberOfRetriesExceeded(new KafkaJSNonRetriableError('bad'), { retryCount: 5, retryTime: 2000 }))).toBe(false);
    // kafkajs builds protocol errors from its table of broker error codes (typed as an Error).
    const protocol = (entry: { message: string; type: string; code: number; retriable: boolean }) => new KafkaJSProtocolError(entry as unknown as Error);
    expect(isTransient(protocol({ message: 'There is no leader for this topic-partition', type: 'LEADER_NOT_AVAILABLE', code: 5, retriable: true }))).toBe(
      true,
    );
    expect(
      isTransient(
        protocol({ message: 'The request included a message larger than the max message size', type: 'MESSAGE_TOO_LARGE', code: 10, retriable: false }),
      ),
    ).toBe(false);
  });

  it("the project's own: KafkaUnavailableError and TransientError are transient, InvalidEventError and plain errors are not", () => {
    expect(isTransient(new KafkaUnavailableError('Kafka did not acknowledge a write within 5000 ms'))).toBe(true);
    expect(isTransient(new TransientError('customer-record is restarting'))).toBe(true);
    expect(isTransient(new Error('projection failed', { cause: new TransientError('store down') }))).toBe(true);
    expect(isTransient(new InvalidEventError('no sender'))).toBe(false);
    expect(isTransient(new Error('a bug'))).toBe(false);
    expect(isTransient('a string')).toBe(false);
    expect(isTransient(null)).toBe(false);
  });

  it('a gRPC peer that is unavailable is transient, a refused permission is not', () => {
    const grpc = (code: number) => Object.assign(new Error(`${code} status`), { code, details: 'x', metadata: {} });
    expect(isTransient(grpc(14))).toBe(true);
    expect(isTransient(grpc(4))).toBe(true);
    expect(isTransient(grpc(7))).toBe(false);
  });
});

describe('back-off', () => {
  it('doubles from the first wait up to the cap, with bounded jitter', () => {
    const none = { initialMs: 200, maxMs: 5000, jitter: 0 };
    expect([1, 2, 3, 4, 5, 6, 7, 50].map((a) => backoffMs(a, none))).toEqual([200, 400, 800, 1600, 3200, 5000, 5000, 5000]);
    expect(backoffMs(3, { initialMs: 200, maxMs: 5000, jitter: 0.5 }, () => 0)).toBe(400);
    expect(backoffMs(3, { initialMs: 200, maxMs: 5000, jitter: 0.5 }, () => 1)).toBe(800);
  });
});
