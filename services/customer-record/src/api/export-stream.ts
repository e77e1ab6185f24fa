// The export in pieces: the document ExportCustomer answers whole (`openExport`), audited before
// its first byte, sent as its UTF-8 bytes in chunks of at most 1 MiB while it is read from the
// store. Each chunk is written only when the caller has taken the one before (grpc-js's write()
// says when to wait for 'drain'), so an export of any size arrives, and neither a large customer
// nor a slow caller makes the service hold more than a chunk and a batch of the store's reads.
import { once } from 'node:events';
import type { ServerWritableStream } from '@grpc/grpc-js';
import type { Caller } from '#libs/auth';
import type { StreamCustomerExportRequest, StreamCustomerExportResponse } from '#libs/proto';
import { audited } from './answers';
import type { ApiDeps } from './deps';
import { openExport } from './erasure';

export const EXPORT_CHUNK_BYTES = 1024 * 1024;

export type ExportStream = ServerWritableStream<StreamCustomerExportRequest, StreamCustomerExportResponse>;

export async function streamCustomerExport(deps: ApiDeps, call: ExportStream, caller: Caller): Promise<void> {
  const opened = await openExport(deps, call.request, caller);
  await audited(deps, caller, 'StreamCustomerExport', opened.customerId, '', opened.reason);
  let first = true;
  const send = async (data: Buffer) => {
    const named = { fileName: first ? opened.fileName : '' };
    first = false;
    if (!call.write({ data, ...named })) await Promise.race([once(call, 'drain'), once(call, 'cancelled')]);
  };
  let pending: Buffer[] = [];
  let size = 0;
  for await (const piece of opened.pieces) {
    if (call.cancelled) return;
    const bytes = Buffer.from(piece, 'utf8');
    pending.push(bytes);
    size += bytes.length;
    while (size >= EXPORT_CHUNK_BYTES) {
      const all = Buffer.concat(pending, size);
      await send(all.subarray(0, EXPORT_CHUNK_BYTES));
      pending = [all.subarray(EXPORT_CHUNK_BYTES)];
      size -= EXPORT_CHUNK_BYTES;
    }
  }
  if (call.cancelled) return;
  if (size || first) await send(Buffer.concat(pending, size));
  call.end();
}
