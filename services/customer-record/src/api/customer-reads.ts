// Reads of a customer: resolving an identity to its customer, the profile, the history page by
// page, and the context a desk shows beside a conversation. The guard decides whose customer
// the caller may read before anything is read; each read is audited before it is answered.
import type { Caller } from '#libs/auth';
import { InvalidArgumentError } from '#libs/service';
import {
  Channel,
  type GetCustomerContextRequest,
  type GetCustomerContextResponse,
  type GetCustomerRequest,
  type GetCustomerResponse,
  type GetHistoryRequest,
  type GetHistoryResponse,
  type ResolveCustomerRequest,
  type ResolveCustomerResponse,
} from '#libs/proto';
import { seesContents, seesIdentity, serviceSeesContents } from '../authz';
import { conversationsInWindow } from '../flags';
import type { CustomerDirectory } from '../store/customers';
import { MAX_RECENT } from '../store/records';
import { InvalidIdentityError, type NormalisedIdentity } from '#libs/contact';
import { claimedCustomer, judgeContact } from '../on-behalf';
import { audited, forRole, withAccount } from './answers';
import type { ApiDeps } from './deps';
import { identity, pageSize, requireId, scopeOf } from './requests';
import { toAccount, toCustomer, toHistoryEntry, toOnBehalf, toSummary } from './wire';

export async function resolveCustomer(deps: ApiDeps, req: ResolveCustomerRequest, caller: Caller): Promise<ResolveCustomerResponse> {
  const n = identity(req.identity, deps.defaultCountry);
  if (req.displayName.length > 200) throw new InvalidArgumentError('display_name is longer than 200 characters');
  const scope = scopeOf({ conversationId: '', reason: req.reason });
  // Only a supervisor with a reason may resolve: the guard checks that before anything is created.
  let resolved: Awaited<ReturnType<CustomerDirectory['resolve']>> | undefined;
  await deps.guard.authorise(caller, scope, async () => (resolved = await deps.directory.resolve(n, req.displayName)).customer._id);
  const { customer, created } = resolved!;
  if (created) deps.cache.invalidate([customer._id]);
  await audited(deps, caller, 'ResolveCustomer', customer._id, '', scope.reason);
  return { customer: await withAccount(deps, customer, caller), created };
}

export async function getCustomer(deps: ApiDeps, req: GetCustomerRequest, caller: Caller): Promise<GetCustomerResponse> {
  const id = requireId(req.customerId, 'customer_id');
  const scope = scopeOf(req);
  const live = await deps.guard.authorise(caller, scope, async () => id);
  const customer = await deps.directory.getCustomer(id);
  await audited(deps, caller, 'GetCustomer', live, scope.conversationId, scope.reason);
  return { customer: await withAccount(deps, customer, caller) };
}

export async function getHistory(deps: ApiDeps, req: GetHistoryRequest, caller: Caller): Promise<GetHistoryResponse> {
  const id = requireId(req.customerId, 'customer_id');
  const size = pageSize(req.pageSize, 50, 200);
  const scope = scopeOf(req);
  if (!Object.values(Channel).includes(req.channel) || req.channel === Channel.UNRECOGNIZED) throw new InvalidArgumentError('channel is not a known channel');
  const live = await deps.guard.authorise(caller, scope, async () => id);
  const page = await deps.pages.historyPage(live, size, req.pageToken, req.channel, scope.conversationId);
  await audited(deps, caller, 'GetHistory', live, scope.conversationId, scope.reason);
  const contents = seesContents(caller.role) || serviceSeesContents(caller, req.withContents, scope.reason);
  return { entries: page.entries.map((e) => toHistoryEntry(e, contents)), nextPageToken: page.nextPageToken };
}

export async function getCustomerContext(deps: ApiDeps, req: GetCustomerContextRequest, caller: Caller): Promise<GetCustomerContextResponse> {
  const recent = pageSize(req.recentConversations, 5, MAX_RECENT, 'recent_conversations');
  const scope = scopeOf(req);
  const customerId = req.customerId ? requireId(req.customerId, 'customer_id') : '';
  const who = !customerId && req.identity ? identity(req.identity, deps.defaultCountry) : null;
  if (!customerId && !who && !scope.conversationId) throw new InvalidArgumentError('either customer_id, identity or conversation_id is required');
  const onBehalf = await contextOnBehalf(deps, req, who);
  const live = await deps.guard.authorise(caller, scope, async () => customerId || onBehalf?.customerId || (who ? deps.directory.customerIdFor(who) : null));
  const variant = `${recent}:${seesContents(caller.role) ? 'full' : 'counts'}:${seesIdentity(caller.role) ? 'named' : 'anonymous'}`;
  let context = deps.cache.get(live, variant);
  if (!context) {
    const generation = deps.cache.begin();
    context = await readContext(deps, live, recent, caller);
    deps.cache.set(live, variant, context, generation);
  }
  await audited(deps, caller, 'GetCustomerContext', context.customer?.customerId ?? live, scope.conversationId, scope.reason);
  return onBehalf ? { ...context, onBehalf: toOnBehalf(onBehalf.record) } : context;
}

/** A sender who says they act for someone: that customer's context only under a mandate in force now. */
async function contextOnBehalf(deps: ApiDeps, req: GetCustomerContextRequest, who: NormalisedIdentity | null) {
  if (!req.onBehalfOf) return null;
  if (!who) throw new InvalidArgumentError('on_behalf_of needs the sender as identity');
  let claimedFor;
  try {
    claimedFor = claimedCustomer(req.onBehalfOf, deps.defaultCountry);
  } catch (err) {
    if (err instanceof InvalidIdentityError) throw new InvalidArgumentError(`on_behalf_of: ${err.message}`);
    throw err;
  }
  return judgeContact(deps, who, claimedFor, new Date());
}

/** One read by _id (the recent conversations live on the customer document), plus the account if any. */
async function readContext(deps: ApiDeps, customerId: string, recent: number, caller: Caller): Promise<GetCustomerContextResponse> {
  const customer = await deps.directory.liveCustomer(await deps.directory.getCustomer(customerId));
  const convs = (customer.recentConversations ?? []).slice(0, recent);
  const account = await deps.flagSettings.findAccount(customer.accountId);
  const contents = seesContents(caller.role);
  return {
    customer: forRole(toCustomer(customer, account), caller),
    account: account ? toAccount(account) : undefined,
    recentConversations: convs.map((c) => toSummary(c, contents)),
    conversationsLast90Days: conversationsInWindow(customer.conversationStarts ?? [], new Date(), deps.windowDays),
  };
}
