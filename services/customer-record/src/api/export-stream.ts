// The export in pieces: the same document as ExportCustomer (built and audited by
// customerExport), sent as its UTF-8 bytes in chunks of at most 1 MiB, each written only when the
// caller has taken the one before (grpc-js's write() says when to wait for 'drain'), so an export
// of any size arrives and a slow caller does not make the service hold every chunk in flight.
import { once } from 'node:events';
import type { ServerWritableStream } from '@grpc/grpc-js';
import type { Caller } from '#libs/auth';
import type { StreamCustomerExportRequest, StreamCustomerExportResponse } from '#libs/proto';
import type { ApiDeps } from './deps';
import { customerExport } from './erasure';

export const EXPORT_CHUNK_BYTES = 1024 * 1024;

export type ExportStream = ServerWritableStream<StreamCustomerExportRequest, StreamCustomerExportResponse>;

export async function streamCustomerExport(deps: ApiDeps, call: ExportStream, caller: Caller): Promise<void> {
  const exported = await customerExport(deps, call.request, caller, 'StreamCustomerExport');
  const bytes = Buffer.from(exported.document, 'utf8');
  for (let offset = 0; offset < bytes.length || offset === 0; offset += EXPORT_CHUNK_BYTES) {
    if (call.cancelled) return;
    const data = bytes.subarray(offset, offset + EXPORT_CHUNK_BYTES);
    const first = offset === 0 ? { fileName: exported.fileName, totalBytes: bytes.length } : { fileName: '', totalBytes: 0 };
    if (!call.write({ data, ...first })) await Promise.race([once(call, 'drain'), once(call, 'cancelled')]);
  }
  call.end();
}
