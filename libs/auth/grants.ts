// Which calls a service may make of another, by name: a service token's caller id is the
// calling service's own name (issuers.ts). Least privilege: each service only for what it uses;
// a service not listed may make no call at all.
import type { IssuerName } from './issuers';
import type { Caller, Role } from './roles';

/** Per calling service, the methods it is granted (gRPC method names, such as 'GetQueueStats'). */
export type ServiceGrants<Call extends string> = Readonly<Partial<Record<IssuerName, readonly Call[]>>>;

/** People pass (their role is checked on its own); a service only for a call granted to it. */
export function isGranted<Call extends string>(grants: ServiceGrants<Call>, caller: Caller, call: Call): boolean {
  if (caller.role !== 'service') return true;
  const granted: readonly string[] = Object.hasOwn(grants, caller.id) ? (grants[caller.id as IssuerName] ?? []) : [];
  return granted.includes(call);
}

/** The roles that may make a call: the people's, and `service` when some service is granted it. */
export function rolesFor<Call extends string>(grants: ServiceGrants<Call>, call: Call, people: readonly Role[]): readonly Role[] {
  const granted = Object.values<readonly Call[] | undefined>(grants).some((calls) => calls?.includes(call));
  return granted && !people.includes('service') ? [...people, 'service'] : people;
}
