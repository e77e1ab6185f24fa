// A customer's export from customer-record's stream to the officer's browser as one download,
// chunk by chunk: the console holds at most a chunk or two (the stream is paused while the
// browser is slow), never the whole file. The headers go out with the first chunk, so a refusal
// (unknown customer, no reason) is still an HTTP status with its reason; a failure after that
// cuts the answer off (the edge destroys it) before the chunked encoding's last chunk, so the
// browser tells a cut-off file from a whole one (customer-record writes the document as it reads
// it, so nobody knows its length ahead).
import type http from 'node:http';
import { status, type ClientReadableStream, type ServiceError } from '@grpc/grpc-js';
import type { StreamCustomerExportResponse } from '#libs/proto';
import { refusal } from './conversation-search';

function downloadHeaders(first: StreamCustomerExportResponse): Record<string, string> {
  return {
    'content-type': 'application/json; charset=utf-8',
    'content-disposition': `attachment; filename="${first.fileName.replace(/[^A-Za-z0-9_.-]/g, '_')}"`,
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
  };
}

export function sendExport(stream: ClientReadableStream<StreamCustomerExportResponse>, res: http.ServerResponse): Promise<void> {
  // The officer went away: customer-record need not send the rest.
  const leave = () => {
    if (!res.writableFinished) stream.cancel();
  };
  res.on('close', leave);
  return new Promise<void>((resolve, reject) => {
    // grpc-js emits a refusal's 'error' before the 'end' that follows it: that end answers nothing.
    let failed = false;
    stream.on('data', (chunk: StreamCustomerExportResponse) => {
      if (!res.headersSent) res.writeHead(200, downloadHeaders(chunk));
      if (!res.write(chunk.data)) {
        stream.pause();
        res.once('drain', () => stream.resume());
      }
    });
    stream.on('end', () => {
      if (failed) return;
      res.end();
      resolve();
    });
    stream.on('error', (err: ServiceError) => {
      failed = true;
      // Cancelled because the officer left: nobody is waiting for an answer.
      if (err.code === status.CANCELLED && res.destroyed) resolve();
      else reject(refusal(err));
    });
  }).finally(() => res.off('close', leave));
}
