// The gRPC edge: authorises each call, validates its request, checks whose customer the caller
// may read (read-guard.ts) and runs it against the store; its typed failures become status codes
// in libs/service/grpc-handlers.ts. Every read of a customer's data is audited, and answered only
// once its audit entry is stored.
import { authorizeCall, type Caller, type TokenVerifier } from '#libs/auth';
import { customerFlagName } from '#libs/contact';
import type { Logger } from '#libs/observability';
import type { RateLimiter } from '#libs/rate-limit';
import { InvalidArgumentError, PermissionDeniedError, ResourceExhaustedError, UnavailableError, unaryHandler } from '#libs/service';
import { Channel, type Customer, type CustomerRecordServiceServer, type GetCustomerContextResponse } from '#libs/proto';
import { ReadRefusedError } from './access';
import { AuditUnavailableError, type AuditLog } from './audit';
import { mayCall, PERMISSIONS, seesContents, seesIdentity, type CallName } from './authz';
import type { ContextCache } from './cache';
import { conversationsInWindow } from './flags';
import { InvalidIdentityError, normaliseIdentity } from './identity';
import type { ReadGuard } from './read-guard';
import { MAX_RECENT, toAccount, toAuditEntry, toCustomer, toHistoryEntry, toSummary, type CustomerDoc, type CustomerStore } from './store';

export interface ApiDeps {
  store: CustomerStore;
  audit: AuditLog;
  guard: ReadGuard;
  cache: ContextCache<GetCustomerContextResponse>;
  verify: TokenVerifier;
  logger: Logger;
  defaultCountry: string;
  windowDays: number;
  /** Per-person call budget: a leaked agent token cannot page through every customer. */
  callerLimit: RateLimiter;
}

const ID = /^[A-Za-z0-9_.:@-]{1,128}$/;

function requireId(value: string, field: string): string {
  if (!value) throw new InvalidArgumentError(`${field} is required`);
  if (!ID.test(value)) throw new InvalidArgumentError(`${field} must be 1-128 letters, digits or _.:@-`);
  return value;
}

function optionalId(value: string, field: string): string {
  return value ? requireId(value, field) : '';
}

function pageSize(value: number, dflt: number, max: number, field = 'page_size'): number {
  if (value === 0) return dflt;
  if (!Number.isInteger(value) || value < 1 || value > max)
    throw new InvalidArgumentError(`${field} must be between 1 and ${max} (0 means ${dflt}); got ${value}`);
  return value;
}

function identity(deps: ApiDeps, value: Parameters<typeof normaliseIdentity>[0]) {
  try {
    return normaliseIdentity(value, deps.defaultCountry);
  } catch (err) {
    if (err instanceof InvalidIdentityError) throw new InvalidArgumentError(`identity: ${err.message}`);
    throw err;
  }
}

type Handler<Req, Res> = (req: Req, caller: Caller) => Promise<Res>;

function unary<Req, Res>(deps: ApiDeps, name: CallName, handler: Handler<Req, Res>) {
  return unaryHandler<Req, Res>({ service: 'customer-record', logger: deps.logger }, async (call) => {
    const caller = await authorizeCall(call.metadata, deps.verify, PERMISSIONS[name]);
    if (!mayCall(caller, name)) throw new PermissionDeniedError(`service ${caller.id} is not granted ${name}`);
    if (caller.role !== 'service' && !deps.callerLimit.take(caller.id, Date.now()))
      throw new ResourceExhaustedError(`${caller.id} is over the limit of calls per minute; try again shortly`);
    try {
      return await handler(call.request, caller);
    } catch (err) {
      // Refusals are worth watching (a person probing customers); ids only, no customer data.
      if (err instanceof ReadRefusedError) deps.logger.warn({ call: name, callerId: caller.id, role: caller.role, refusal: err.message }, 'read refused');
      throw err;
    }
  });
}

/** What a caller who may not see who the customer is (ops) gets: flags and ids, no name or identities. */
function forRole(c: Customer, caller: Caller): Customer {
  return seesIdentity(caller.role) ? c : { ...c, displayName: '', identities: [] };
}

/** The conversation id and reason of a read, checked for shape; the rules come in the guard. */
function scopeOf(req: { conversationId: string; reason: string }) {
  if (req.reason.length > 500) throw new InvalidArgumentError('reason is longer than 500 characters');
  return { conversationId: optionalId(req.conversationId, 'conversation_id'), reason: req.reason };
}

/** Stores a call's audit entry; a read whose entry cannot be stored is not answered (UNAVAILABLE, try again shortly). */
async function recordAudit(audit: AuditLog, entry: Parameters<AuditLog['record']>[0]): Promise<void> {
  try {
    await audit.record(entry);
  } catch (err) {
    throw err instanceof AuditUnavailableError ? new UnavailableError(err.message, { cause: err }) : err;
  }
}

export function customerRecordApi(deps: ApiDeps): CustomerRecordServiceServer {
  const { store, audit, guard } = deps;
  const audited = (caller: Caller, action: string, customerId: string, conversationId = '', reason = '') =>
    recordAudit(audit, { actorId: caller.id, actorRole: caller.role, action, customerId, conversationId, reason: reason.trim() });
  const withAccount = async (c: CustomerDoc, caller: Caller) => forRole(toCustomer(c, await store.findAccount(c.accountId)), caller);

  return {
    resolveCustomer: unary(deps, 'ResolveCustomer', async (req, caller) => {
      const n = identity(deps, req.identity);
      if (req.displayName.length > 200) throw new InvalidArgumentError('display_name is longer than 200 characters');
      const scope = scopeOf({ conversationId: '', reason: req.reason });
      // Only a supervisor with a reason may resolve: the guard checks that before anything is created.
      let resolved: Awaited<ReturnType<CustomerStore['resolve']>> | undefined;
      await guard.authorise(caller, scope, async () => (resolved = await store.resolve(n, req.displayName)).customer._id);
      const { customer, created } = resolved!;
      if (created) deps.cache.invalidate([customer._id]);
      await audited(caller, 'ResolveCustomer', customer._id, '', scope.reason);
      return { customer: await withAccount(customer, caller), created };
    }),

    getCustomer: unary(deps, 'GetCustomer', async (req, caller) => {
      const id = requireId(req.customerId, 'customer_id');
      const scope = scopeOf(req);
      const live = await guard.authorise(caller, scope, async () => id);
      const customer = await store.getCustomer(id);
      await audited(caller, 'GetCustomer', live, scope.conversationId, scope.reason);
      return { customer: await withAccount(customer, caller) };
    }),

    getHistory: unary(deps, 'GetHistory', async (req, caller) => {
      const id = requireId(req.customerId, 'customer_id');
      const size = pageSize(req.pageSize, 50, 200);
      const scope = scopeOf(req);
      if (!Object.values(Channel).includes(req.channel) || req.channel === Channel.UNRECOGNIZED)
        throw new InvalidArgumentError('channel is not a known channel');
      const live = await guard.authorise(caller, scope, async () => id);
      const page = await store.historyPage(live, size, req.pageToken, req.channel, scope.conversationId);
      await audited(caller, 'GetHistory', live, scope.conversationId, scope.reason);
      const contents = seesContents(caller.role);
      return { entries: page.entries.map((e) => toHistoryEntry(e, contents)), nextPageToken: page.nextPageToken };
    }),

    getCustomerContext: unary(deps, 'GetCustomerContext', async (req, caller) => {
      const recent = pageSize(req.recentConversations, 5, MAX_RECENT, 'recent_conversations');
      const scope = scopeOf(req);
      const customerId = req.customerId ? requireId(req.customerId, 'customer_id') : '';
      const who = !customerId && req.identity ? identity(deps, req.identity) : null;
      if (!customerId && !who && !scope.conversationId) throw new InvalidArgumentError('either customer_id, identity or conversation_id is required');
      const live = await guard.authorise(caller, scope, async () => customerId || (who ? store.customerIdFor(who) : null));
      const contents = seesContents(caller.role);
      const variant = `${recent}:${contents ? 'full' : 'counts'}:${seesIdentity(caller.role) ? 'named' : 'anonymous'}`;
      let context = deps.cache.get(live, variant);
      if (!context) {
        const generation = deps.cache.begin();
        // One read by _id (the recent conversations live on the customer document), plus the account if any.
        const customer = await store.liveCustomer(await store.getCustomer(live));
        const convs = (customer.recentConversations ?? []).slice(0, recent);
        const account = await store.findAccount(customer.accountId);
        context = {
          customer: forRole(toCustomer(customer, account), caller),
          account: account ? toAccount(account) : undefined,
          recentConversations: convs.map((c) => toSummary(c, contents)),
          conversationsLast90Days: conversationsInWindow(customer.conversationStarts ?? [], new Date(), deps.windowDays),
        };
        deps.cache.set(live, variant, context, generation);
      }
      await audited(caller, 'GetCustomerContext', context.customer?.customerId ?? live, scope.conversationId, scope.reason);
      return context;
    }),

    linkIdentity: unary(deps, 'LinkIdentity', async (req, caller) => {
      const id = requireId(req.customerId, 'customer_id');
      const n = identity(deps, req.identity);
      const scope = scopeOf(req);
      await guard.authorise(caller, scope, async () => id);
      const result = await store.link(id, n, caller);
      await audited(caller, 'LinkIdentity', id, scope.conversationId, scope.reason);
      return { customer: await withAccount(result.customer, caller), mergedCustomerId: result.mergedCustomerId, mergeId: result.mergeId };
    }),

    setFlag: unary(deps, 'SetFlag', async (req, caller) => {
      const id = requireId(req.customerId, 'customer_id');
      const kind = customerFlagName(req.kind);
      if (!kind) throw new InvalidArgumentError('kind must be FLAG_KIND_REGULAR, FLAG_KIND_VIP or FLAG_KIND_INSTITUTIONAL');
      if (req.reason.length > 500) throw new InvalidArgumentError('reason is longer than 500 characters');
      const customer = await store.setFlag(id, kind, req.clearOverride ? null : req.on, req.reason, caller);
      await audited(caller, 'SetFlag', id, '', req.reason);
      return { customer: await withAccount(customer, caller) };
    }),

    mergeCustomers: unary(deps, 'MergeCustomers', async (req, caller) => {
      const target = requireId(req.targetCustomerId, 'target_customer_id');
      const source = requireId(req.sourceCustomerId, 'source_customer_id');
      if (req.reason.length > 500) throw new InvalidArgumentError('reason is longer than 500 characters');
      const { mergeId, target: merged } = await store.merge(target, source, req.reason || 'merged by a supervisor', caller);
      await audited(caller, 'MergeCustomers', target, '', req.reason);
      return { customer: await withAccount(merged, caller), mergeId };
    }),

    unmergeCustomer: unary(deps, 'UnmergeCustomer', async (req, caller) => {
      const mergeId = requireId(req.mergeId, 'merge_id');
      const { target, restored } = await store.unmerge(mergeId, caller);
      await audited(caller, 'UnmergeCustomer', restored._id);
      return { target: await withAccount(target, caller), restored: await withAccount(restored, caller) };
    }),

    upsertAccount: unary(deps, 'UpsertAccount', async (req, caller) => {
      const a = req.account;
      if (!a) throw new InvalidArgumentError('account is required');
      const accountId = requireId(a.accountId, 'account.account_id');
      const manager = optionalId(a.managerAgentId, 'account.manager_agent_id');
      if (a.name.length > 200) throw new InvalidArgumentError('account.name is longer than 200 characters');
      if (a.memberCustomerIds.length > 10_000) throw new InvalidArgumentError('an account has at most 10,000 members per call');
      const members = [...new Set(a.memberCustomerIds.map((m) => requireId(m, 'account.member_customer_ids')))];
      const saved = await store.upsertAccount({
        _id: accountId,
        name: a.name,
        managerAgentId: manager,
        vip: a.vip,
        institutional: a.institutional,
        memberCustomerIds: members,
      });
      await audited(caller, 'UpsertAccount', '');
      return { account: toAccount(saved) };
    }),

    listAudit: unary(deps, 'ListAudit', async (req, caller) => {
      const customerId = optionalId(req.customerId, 'customer_id');
      const actorId = optionalId(req.actorId, 'actor_id');
      const size = pageSize(req.pageSize, 50, 200);
      await audit.flush();
      const page = await store.listAudit(customerId, actorId, size, req.pageToken);
      await audited(caller, 'ListAudit', customerId);
      return { entries: page.entries.map(toAuditEntry), nextPageToken: page.nextPageToken };
    }),
  };
}
