// The export passed on from customer-record's stream to a browser: the headers come with the first
// chunk, a refusal before it is an HTTP error with customer-record's reason, a failure after it
// cuts the download off rather than ending it as if whole.
import { EventEmitter } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Metadata, status, type ClientReadableStream } from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import type { StreamCustomerExportResponse } from '#libs/proto';
import { HttpError } from '#libs/web';
import { sendExport } from '../src/export-download';

class FakeExportStream extends EventEmitter {
  cancelled = false;
  pause() {
    return this;
  }
  resume() {
    return this;
  }
  cancel() {
    this.cancelled = true;
  }
}

const grpcError = (code: status, details: string) => Object.assign(new Error(details), { code, details, metadata: new Metadata() });

describe('sending an export to the officer', () => {
  let server: http.Server | undefined;
  afterEach(() => server?.close());

  /** A console route sending a fake stream, asked by a browser: the stream, the browser's answer, and what the route ended with. */
  async function serve() {
    const stream = new FakeExportStream();
    let outcome!: Promise<unknown>;
    let arrive!: () => void;
    const arrived = new Promise<void>((resolve) => (arrive = resolve));
    server = http.createServer((_req, res) => {
      arrive();
      outcome = sendExport(stream as unknown as ClientReadableStream<StreamCustomerExportResponse>, res).then(
        () => 'sent',
        (err: unknown) => {
          res.destroy();
          return err;
        },
      );
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const answer = fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
    await arrived;
    return { stream, answer, outcome: () => outcome };
  }

  it('sends the chunks as one attachment, chunked', async () => {
    const { stream, answer, outcome } = await serve();
    stream.emit('data', { data: Buffer.from('{"a":'), fileName: 'customer-c1-2026-12-03.json' });
    stream.emit('data', { data: Buffer.from('"ü"}'), fileName: '' });
    stream.emit('end');
    const res = await answer;
    expect(res.headers.get('content-disposition')).toBe('attachment; filename="customer-c1-2026-12-03.json"');
    expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(res.headers.get('content-length')).toBeNull();
    expect(JSON.parse(await res.text())).toEqual({ a: 'ü' });
    await expect(outcome()).resolves.toBe('sent');
  });

  it('turns a refusal before the first chunk into the HTTP error, even with the end that follows it', async () => {
    const { stream, answer, outcome } = await serve();
    // This route cuts the connection on an error (the console's edge answers the status instead).
    const cut = expect(answer).rejects.toThrow();
    stream.emit('error', grpcError(status.NOT_FOUND, 'no customer c1'));
    stream.emit('end');
    const err = (await outcome()) as HttpError;
    expect(err).toBeInstanceOf(HttpError);
    expect([err.status, err.message]).toEqual([404, 'no customer c1']);
    await cut;
  });

  it('cuts the download off when the stream fails after its first chunk', async () => {
    const { stream, answer, outcome } = await serve();
    stream.emit('data', { data: Buffer.from('{"a":'), fileName: 'customer-c1.json' });
    const res = await answer;
    stream.emit('error', grpcError(status.INTERNAL, 'internal error; see the service log'));
    await expect(res.text()).rejects.toThrow();
    expect(((await outcome()) as HttpError).status).toBe(503);
  });
});
