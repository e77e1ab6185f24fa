// Data-protection requests, the privacy role's only calls: export everything held about a
// customer as one JSON document, and erase it. An erasure publishes its hashed subjects on
// cc.erasure.v1 before it deletes anything, so a crash half-way leaves a replay that drops the
// customer and a store that the same request, asked again, finishes.
import { randomUUID } from 'node:crypto';
import type { Caller } from '#libs/auth';
import type { EraseCustomerRequest, EraseCustomerResponse, ExportCustomerRequest, ExportCustomerResponse } from '#libs/proto';
import { FailedPreconditionError } from '#libs/service';
import { subjectKey } from '#libs/erasure';
import { erasureSubjects } from '../erasure';
import { exportPieces } from '../export-document';
import { heldCustomerIds, heldIdentities, type CustomerHoldings } from '../store/erasure';
import { audited } from './answers';
import type { ApiDeps } from './deps';
import { requestReason, requireId } from './requests';

/** What one gRPC message can carry (4 MiB by default), less room for the envelope. */
const ONE_MESSAGE_BYTES = 4 * 1024 * 1024 - 64 * 1024;

export interface OpenedExport {
  customerId: string;
  reason: string;
  fileName: string;
  /** The document's JSON text, piece by piece, read from the store as it is taken. */
  pieces: AsyncGenerator<string>;
}

/** The export of a customer, not read yet; NOT_FOUND for an unknown or merged customer. The caller audits it before it hands out a byte. */
export async function openExport(deps: ApiDeps, req: ExportCustomerRequest, caller: Caller): Promise<OpenedExport> {
  const customerId = requireId(req.customerId, 'customer_id');
  const reason = requestReason(req.reason);
  // Reads recorded a moment ago belong in the export.
  await deps.audit.flush();
  const parts = await deps.privacy.erasure.exportParts(customerId);
  const exportedAt = new Date();
  const pieces = exportPieces({ format: 'contactcenter.customer-export.v1', exportedAt, exportedBy: caller.id, reason, ...parts });
  return { customerId, reason, fileName: `customer-${customerId}-${exportedAt.toISOString().slice(0, 10)}.json`, pieces };
}

/** The export as one document, audited before it is handed out; FAILED_PRECONDITION (and nothing audited) when it would not fit one message. */
export async function exportCustomer(deps: ApiDeps, req: ExportCustomerRequest, caller: Caller): Promise<ExportCustomerResponse> {
  const opened = await openExport(deps, req, caller);
  let document = '';
  let size = 0;
  for await (const piece of opened.pieces) {
    size += Buffer.byteLength(piece);
    if (size > ONE_MESSAGE_BYTES)
      throw new FailedPreconditionError(
        `the export is over ${ONE_MESSAGE_BYTES} bytes, more than one message carries; ask StreamCustomerExport for it in pieces`,
      );
    document += piece;
  }
  await audited(deps, caller, 'ExportCustomer', opened.customerId, '', opened.reason);
  return { document, fileName: opened.fileName };
}

export async function eraseCustomer(deps: ApiDeps, req: EraseCustomerRequest, caller: Caller): Promise<EraseCustomerResponse> {
  const customerId = requireId(req.customerId, 'customer_id');
  const reason = requestReason(req.reason);
  await deps.audit.flush();
  const held = await deps.privacy.erasure.gather(customerId);
  const { secret } = deps.privacy;
  const erasureId = randomUUID();
  const erasedAt = new Date();
  const customerIds = heldCustomerIds(held);
  const conversationIds = conversationsOf(held);
  await deps.privacy.topic.publish(erasureId, erasureSubjects(secret, { customerIds, identities: heldIdentities(held), conversationIds }), erasedAt);
  const key = subjectKey(secret, 'customer', customerId);
  const stored = await deps.privacy.erasure.erase(held, `erased:${key}`);
  const searchRows = deps.privacy.index.forget(conversationIds, customerIds);
  const counts = { ...stored, searchRows };
  const detail = `erasure ${erasureId}; key ${key}; deleted ${describeCounts(counts)}`;
  await audited(deps, caller, 'EraseCustomer', `erased:${key}`, '', reason, detail);
  deps.logger.info({ erasureId, erasedBy: caller.id, counts }, 'customer erased');
  return { erasureId, subjectKey: key, erasedAt, counts };
}

/** The customer's conversations, also those only their history entries name. */
function conversationsOf(held: CustomerHoldings): string[] {
  return [...new Set([...held.conversationIds, ...held.historyConversationIds])];
}

function describeCounts(c: Record<string, number>): string {
  return Object.entries(c)
    .map(([kind, n]) => `${n} ${kind}`)
    .join(', ');
}
