// The gRPC edge: authorises each call, validates its request, checks whose customer the caller
// may read (read-guard.ts) and runs it against the store; its typed failures become status codes
// in libs/service/grpc-handlers.ts. Every read of a customer's data is audited, and answered only
// once its audit entry is stored. The calls themselves are in api/, by what they do.
import type { Metadata, ServerWritableStream } from '@grpc/grpc-js';
import { authorizeCall, type Caller } from '#libs/auth';
import type { CustomerRecordServiceServer } from '#libs/proto';
import { PermissionDeniedError, ResourceExhaustedError, toServiceError, unaryHandler } from '#libs/service';
import { ReadRefusedError } from './access';
import { openAttachment } from './api/attachments';
import { listAudit } from './api/audit-listing';
import { getCustomer, getCustomerContext, getHistory, resolveCustomer } from './api/customer-reads';
import type { ApiDeps, Handler } from './api/deps';
import { eraseCustomer, exportCustomer } from './api/erasure';
import { streamCustomerExport } from './api/export-stream';
import { findCustomers } from './api/officer-search';
import { setFlag, upsertAccount } from './api/flags';
import { grantMandate, revokeMandate, upsertIntermediary } from './api/intermediaries';
import { linkIdentity, mergeCustomers, unmergeCustomer } from './api/merges';
import { searchConversations } from './api/search';
import { mayCall, PERMISSIONS, type CallName } from './authz';

export function customerRecordApi(deps: ApiDeps): CustomerRecordServiceServer {
  return {
    resolveCustomer: unary(deps, 'ResolveCustomer', resolveCustomer),
    getCustomer: unary(deps, 'GetCustomer', getCustomer),
    getHistory: unary(deps, 'GetHistory', getHistory),
    getCustomerContext: unary(deps, 'GetCustomerContext', getCustomerContext),
    linkIdentity: unary(deps, 'LinkIdentity', linkIdentity),
    setFlag: unary(deps, 'SetFlag', setFlag),
    mergeCustomers: unary(deps, 'MergeCustomers', mergeCustomers),
    unmergeCustomer: unary(deps, 'UnmergeCustomer', unmergeCustomer),
    upsertAccount: unary(deps, 'UpsertAccount', upsertAccount),
    listAudit: unary(deps, 'ListAudit', listAudit),
    upsertIntermediary: unary(deps, 'UpsertIntermediary', upsertIntermediary),
    grantMandate: unary(deps, 'GrantMandate', grantMandate),
    revokeMandate: unary(deps, 'RevokeMandate', revokeMandate),
    searchConversations: unary(deps, 'SearchConversations', searchConversations),
    openAttachment: unary(deps, 'OpenAttachment', openAttachment),
    exportCustomer: unary(deps, 'ExportCustomer', exportCustomer),
    eraseCustomer: unary(deps, 'EraseCustomer', eraseCustomer),
    findCustomers: unary(deps, 'FindCustomers', findCustomers),
    streamCustomerExport: serverStream(deps, 'StreamCustomerExport', streamCustomerExport),
  };
}

/** The caller, when their token grants the call and they are within their call budget. */
async function admit(deps: ApiDeps, metadata: Metadata, name: CallName): Promise<Caller> {
  const caller = await authorizeCall(metadata, deps.verify, PERMISSIONS[name]);
  if (!mayCall(caller, name)) throw new PermissionDeniedError(`service ${caller.id} is not granted ${name}`);
  if (caller.role !== 'service' && !deps.callerLimit.take(caller.id, Date.now()))
    throw new ResourceExhaustedError(`${caller.id} is over the limit of calls per minute; try again shortly`);
  return caller;
}

/** A call, run only for a caller whose token grants it and who is within their call budget. */
function unary<Req, Res>(deps: ApiDeps, name: CallName, handler: Handler<Req, Res>) {
  return unaryHandler<Req, Res>({ service: 'customer-record', logger: deps.logger }, async (call) => {
    const caller = await admit(deps, call.metadata, name);
    try {
      return await handler(deps, call.request, caller);
    } catch (err) {
      // Refusals are worth watching (a person probing customers); ids only, no customer data.
      if (err instanceof ReadRefusedError) deps.logger.warn({ call: name, callerId: caller.id, role: caller.role, refusal: err.message }, 'read refused');
      throw err;
    }
  });
}

/** A server-streaming call, admitted as a unary one; a failure ends the stream with its status (grpc-js sends it on 'error'). */
function serverStream<Req, Res>(
  deps: ApiDeps,
  name: CallName,
  handler: (deps: ApiDeps, call: ServerWritableStream<Req, Res>, caller: Caller) => Promise<void>,
) {
  const edge = { service: 'customer-record', logger: deps.logger };
  return (call: ServerWritableStream<Req, Res>) => {
    admit(deps, call.metadata, name)
      .then((caller) => handler(deps, call, caller))
      .catch((err: unknown) => call.emit('error', toServiceError(edge, call.getPath(), err)));
  };
}
