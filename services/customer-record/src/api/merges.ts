// Joining and separating customers: linking an identity (which merges in its holder), a
// supervisor's merge, and its undoing.
import type { Caller } from '#libs/auth';
import type {
  LinkIdentityRequest,
  LinkIdentityResponse,
  MergeCustomersRequest,
  MergeCustomersResponse,
  UnmergeCustomerRequest,
  UnmergeCustomerResponse,
} from '#libs/proto';
import { audited, withAccount } from './answers';
import type { ApiDeps } from './deps';
import { checkReason, identity, requireId, scopeOf } from './requests';

export async function linkIdentity(deps: ApiDeps, req: LinkIdentityRequest, caller: Caller): Promise<LinkIdentityResponse> {
  const id = requireId(req.customerId, 'customer_id');
  const n = identity(req.identity, deps.defaultCountry);
  const scope = scopeOf(req);
  await deps.guard.authorise(caller, scope, async () => id);
  const result = await deps.merging.link(id, n, caller);
  if (result.mergeId) await deps.announcements.announce(result.mergeId);
  await audited(deps, caller, 'LinkIdentity', id, scope.conversationId, scope.reason);
  return { customer: await withAccount(deps, result.customer, caller), mergedCustomerId: result.mergedCustomerId, mergeId: result.mergeId };
}

export async function mergeCustomers(deps: ApiDeps, req: MergeCustomersRequest, caller: Caller): Promise<MergeCustomersResponse> {
  const target = requireId(req.targetCustomerId, 'target_customer_id');
  const source = requireId(req.sourceCustomerId, 'source_customer_id');
  checkReason(req.reason);
  const { mergeId, target: merged } = await deps.merging.merge(target, source, req.reason || 'merged by a supervisor', caller);
  await deps.announcements.announce(mergeId);
  await audited(deps, caller, 'MergeCustomers', target, '', req.reason);
  return { customer: await withAccount(deps, merged, caller), mergeId };
}

export async function unmergeCustomer(deps: ApiDeps, req: UnmergeCustomerRequest, caller: Caller): Promise<UnmergeCustomerResponse> {
  const mergeId = requireId(req.mergeId, 'merge_id');
  const { target, restored } = await deps.merging.unmerge(mergeId, caller);
  await audited(deps, caller, 'UnmergeCustomer', restored._id);
  return { target: await withAccount(deps, target, caller), restored: await withAccount(deps, restored, caller) };
}
