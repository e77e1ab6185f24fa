// The gRPC edge: authorises each call, validates its request, runs it against the store and
// maps typed failures to status codes. Every read of a customer's data is audited.
import { status, type Metadata, type sendUnaryData, type ServerUnaryCall } from '@grpc/grpc-js';
import { authorizeCall, grpcError, type Caller, type TokenVerifier } from '../../../libs/auth';
import type { Logger } from '../../../libs/observability';
import type { RateLimiter } from '../../../libs/rate-limit';
import { errorDetails } from '../../../libs/observability';
import {
  Channel,
  FlagKind,
  type CustomerRecordServiceServer,
  type GetCustomerContextResponse,
} from '../../../libs/proto';
import type { AuditLog } from './audit';
import { PERMISSIONS, seesContents, type CallName } from './authz';
import type { ContextCache } from './cache';
import { FailedPreconditionError, InvalidArgumentError, NotFoundError } from './errors';
import { conversationsInWindow } from './flags';
import { InvalidIdentityError, normaliseIdentity } from './identity';
import { MergeRefusedError } from './merge';
import { MAX_RECENT, toAccount, toAuditEntry, toCustomer, toHistoryEntry, toSummary, type CustomerDoc, type CustomerStore } from './store';

export interface ApiDeps {
  store: CustomerStore;
  audit: AuditLog;
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
  if (!Number.isInteger(value) || value < 1 || value > max) throw new InvalidArgumentError(`${field} must be between 1 and ${max} (0 means ${dflt}); got ${value}`);
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
  return (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>) => {
    run(deps, name, call.metadata, call.request, handler).then(
      (res) => callback(null, res),
      (err: unknown) => callback(toGrpcError(deps, name, err)),
    );
  };
}

async function run<Req, Res>(deps: ApiDeps, name: CallName, metadata: Metadata, request: Req, handler: Handler<Req, Res>): Promise<Res> {
  const caller = await authorizeCall(metadata, deps.verify, PERMISSIONS[name]);
  if (caller.role !== 'service' && !deps.callerLimit.take(caller.id, Date.now()))
    throw grpcError(status.RESOURCE_EXHAUSTED, `${caller.id} is over the limit of calls per minute; try again shortly`);
  return handler(request, caller);
}

function toGrpcError(deps: ApiDeps, name: CallName, err: unknown) {
  if (typeof err === 'object' && err !== null && 'code' in err && typeof (err as { code: unknown }).code === 'number' && 'details' in err) return err as ReturnType<typeof grpcError>;
  if (err instanceof InvalidArgumentError) return grpcError(status.INVALID_ARGUMENT, err.message);
  if (err instanceof NotFoundError) return grpcError(status.NOT_FOUND, err.message);
  if (err instanceof FailedPreconditionError || err instanceof MergeRefusedError) return grpcError(status.FAILED_PRECONDITION, err.message);
  deps.logger.error({ call: name, ...errorDetails(err) }, 'call failed');
  return grpcError(status.INTERNAL, 'internal error; see the service log');
}

const FLAG_FIELDS: Partial<Record<FlagKind, 'regular' | 'vip' | 'institutional'>> = {
  [FlagKind.FLAG_KIND_REGULAR]: 'regular',
  [FlagKind.FLAG_KIND_VIP]: 'vip',
  [FlagKind.FLAG_KIND_INSTITUTIONAL]: 'institutional',
};

export function customerRecordApi(deps: ApiDeps): CustomerRecordServiceServer {
  const { store, audit } = deps;
  const audited = (caller: Caller, action: string, customerId: string, conversationId = '') =>
    audit.record({ actorId: caller.id, actorRole: caller.role, action, customerId, conversationId });
  const withAccount = async (c: CustomerDoc) => toCustomer(c, await store.findAccount(c.accountId));

  return {
    resolveCustomer: unary(deps, 'ResolveCustomer', async (req, caller) => {
      const n = identity(deps, req.identity);
      if (req.displayName.length > 200) throw new InvalidArgumentError('display_name is longer than 200 characters');
      const { customer, created } = await store.resolve(n, req.displayName);
      if (created) deps.cache.invalidate([customer._id]);
      audited(caller, 'ResolveCustomer', customer._id);
      return { customer: await withAccount(customer), created };
    }),

    getCustomer: unary(deps, 'GetCustomer', async (req, caller) => {
      const id = requireId(req.customerId, 'customer_id');
      const conversationId = optionalId(req.conversationId, 'conversation_id');
      const customer = await store.getCustomer(id);
      audited(caller, 'GetCustomer', id, conversationId);
      return { customer: await withAccount(customer) };
    }),

    getHistory: unary(deps, 'GetHistory', async (req, caller) => {
      const id = requireId(req.customerId, 'customer_id');
      const size = pageSize(req.pageSize, 50, 200);
      const conversationId = optionalId(req.conversationId, 'conversation_id');
      if (!Object.values(Channel).includes(req.channel) || req.channel === Channel.UNRECOGNIZED) throw new InvalidArgumentError('channel is not a known channel');
      const live = await store.liveCustomer(await store.getCustomer(id));
      const page = await store.historyPage(live._id, size, req.pageToken, req.channel, conversationId);
      audited(caller, 'GetHistory', live._id, conversationId);
      const contents = seesContents(caller.role);
      return { entries: page.entries.map((e) => toHistoryEntry(e, contents)), nextPageToken: page.nextPageToken };
    }),

    getCustomerContext: unary(deps, 'GetCustomerContext', async (req, caller) => {
      const recent = pageSize(req.recentConversations, 5, MAX_RECENT, 'recent_conversations');
      const conversationId = optionalId(req.conversationId, 'conversation_id');
      let customerId: string;
      if (req.customerId) customerId = requireId(req.customerId, 'customer_id');
      else if (req.identity) customerId = await store.customerIdFor(identity(deps, req.identity));
      else throw new InvalidArgumentError('either customer_id or identity is required');
      const contents = seesContents(caller.role);
      const variant = `${recent}:${contents ? 'full' : 'counts'}`;
      let context = deps.cache.get(customerId, variant);
      if (!context) {
        const generation = deps.cache.begin();
        // One read by _id (the recent conversations live on the customer document), plus the account if any.
        const found = await store.getCustomer(customerId);
        const customer = found.mergedInto ? await store.liveCustomer(found) : found;
        const convs = (customer.recentConversations ?? []).slice(0, recent);
        const account = await store.findAccount(customer.accountId);
        context = {
          customer: toCustomer(customer, account),
          account: account ? toAccount(account) : undefined,
          recentConversations: convs.map((c) => toSummary(c, contents)),
          conversationsLast90Days: conversationsInWindow(customer.conversationStarts ?? [], new Date(), deps.windowDays),
        };
        deps.cache.set(customerId, variant, context, generation);
      }
      audited(caller, 'GetCustomerContext', context.customer?.customerId ?? customerId, conversationId);
      return context;
    }),

    linkIdentity: unary(deps, 'LinkIdentity', async (req, caller) => {
      const id = requireId(req.customerId, 'customer_id');
      const n = identity(deps, req.identity);
      const result = await store.link(id, n, caller);
      audited(caller, 'LinkIdentity', id);
      return { customer: await withAccount(result.customer), mergedCustomerId: result.mergedCustomerId, mergeId: result.mergeId };
    }),

    setFlag: unary(deps, 'SetFlag', async (req, caller) => {
      const id = requireId(req.customerId, 'customer_id');
      const kind = FLAG_FIELDS[req.kind];
      if (!kind) throw new InvalidArgumentError('kind must be FLAG_KIND_REGULAR, FLAG_KIND_VIP or FLAG_KIND_INSTITUTIONAL');
      if (req.reason.length > 500) throw new InvalidArgumentError('reason is longer than 500 characters');
      const customer = await store.setFlag(id, kind, req.clearOverride ? null : req.on, req.reason, caller);
      audited(caller, 'SetFlag', id);
      return { customer: await withAccount(customer) };
    }),

    mergeCustomers: unary(deps, 'MergeCustomers', async (req, caller) => {
      const target = requireId(req.targetCustomerId, 'target_customer_id');
      const source = requireId(req.sourceCustomerId, 'source_customer_id');
      if (req.reason.length > 500) throw new InvalidArgumentError('reason is longer than 500 characters');
      const { mergeId, target: merged } = await store.merge(target, source, req.reason || 'merged by a supervisor', caller);
      audited(caller, 'MergeCustomers', target);
      return { customer: await withAccount(merged), mergeId };
    }),

    unmergeCustomer: unary(deps, 'UnmergeCustomer', async (req, caller) => {
      const mergeId = requireId(req.mergeId, 'merge_id');
      const { target, restored } = await store.unmerge(mergeId, caller);
      audited(caller, 'UnmergeCustomer', restored._id);
      return { target: await withAccount(target), restored: await withAccount(restored) };
    }),

    upsertAccount: unary(deps, 'UpsertAccount', async (req, caller) => {
      const a = req.account;
      if (!a) throw new InvalidArgumentError('account is required');
      const accountId = requireId(a.accountId, 'account.account_id');
      const manager = optionalId(a.managerAgentId, 'account.manager_agent_id');
      if (a.name.length > 200) throw new InvalidArgumentError('account.name is longer than 200 characters');
      if (a.memberCustomerIds.length > 10_000) throw new InvalidArgumentError('an account has at most 10,000 members per call');
      const members = [...new Set(a.memberCustomerIds.map((m) => requireId(m, 'account.member_customer_ids')))];
      const saved = await store.upsertAccount({ _id: accountId, name: a.name, managerAgentId: manager, vip: a.vip, institutional: a.institutional, memberCustomerIds: members });
      audited(caller, 'UpsertAccount', '');
      return { account: toAccount(saved) };
    }),

    listAudit: unary(deps, 'ListAudit', async (req, caller) => {
      const customerId = optionalId(req.customerId, 'customer_id');
      const actorId = optionalId(req.actorId, 'actor_id');
      const size = pageSize(req.pageSize, 50, 200);
      await audit.flush();
      const page = await store.listAudit(customerId, actorId, size, req.pageToken);
      audited(caller, 'ListAudit', customerId);
      return { entries: page.entries.map(toAuditEntry), nextPageToken: page.nextPageToken };
    }),
  };
}
