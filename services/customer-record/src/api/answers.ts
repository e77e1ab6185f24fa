// What every call does on its way out: the customer as the caller's role may see it, and the
// call's audit entry, stored before the answer.
import type { Caller } from '#libs/auth';
import type { Customer } from '#libs/proto';
import { UnavailableError } from '#libs/service';
import { AuditUnavailableError } from '../audit';
import { seesIdentity } from '../authz';
import type { CustomerDoc } from '../store/records';
import type { ApiDeps } from './deps';
import { toCustomer } from './wire';

/** What a caller who may not see who the customer is (ops) gets: flags and ids, no name or identities. */
export function forRole(c: Customer, caller: Caller): Customer {
  return seesIdentity(caller.role) ? c : { ...c, displayName: '', identities: [] };
}

/** The customer with their account's flags, as the caller may see them. */
export async function withAccount(deps: ApiDeps, c: CustomerDoc, caller: Caller): Promise<Customer> {
  return forRole(toCustomer(c, await deps.flagSettings.findAccount(c.accountId)), caller);
}

/** Stores a call's audit entry; a read whose entry cannot be stored is not answered (UNAVAILABLE, try again shortly). */
export async function audited(
  deps: ApiDeps,
  caller: Caller,
  action: string,
  customerId: string,
  conversationId = '',
  reason = '',
  detail?: string,
): Promise<void> {
  try {
    await deps.audit.record({
      actorId: caller.id,
      actorRole: caller.role,
      action,
      customerId,
      conversationId,
      reason: reason.trim(),
      ...(detail ? { detail } : {}),
    });
  } catch (err) {
    throw err instanceof AuditUnavailableError ? new UnavailableError(err.message, { cause: err }) : err;
  }
}
