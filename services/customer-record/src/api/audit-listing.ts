// A supervisor's listing of the audit log, by customer or by actor, newest first. What was
// recorded a moment ago is written first, so the listing includes it.
import type { Caller } from '#libs/auth';
import type { ListAuditRequest, ListAuditResponse } from '#libs/proto';
import { audited } from './answers';
import type { ApiDeps } from './deps';
import { optionalId, pageSize } from './requests';
import { toAuditEntry } from './wire';

export async function listAudit(deps: ApiDeps, req: ListAuditRequest, caller: Caller): Promise<ListAuditResponse> {
  const customerId = optionalId(req.customerId, 'customer_id');
  const actorId = optionalId(req.actorId, 'actor_id');
  const size = pageSize(req.pageSize, 50, 200);
  await deps.audit.flush();
  const page = await deps.pages.listAudit(customerId, actorId, size, req.pageToken);
  await audited(deps, caller, 'ListAudit', customerId);
  return { entries: page.entries.map(toAuditEntry), nextPageToken: page.nextPageToken };
}
