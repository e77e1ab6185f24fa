// Who may call what. Reads are open to the people who serve customers, each read then checked
// per conversation (agents, experts) or with a reason (supervisors, ops) in read-guard.ts;
// changes to flags, merges and the audit log are a supervisor's; ops sees flags and counts,
// never names, identities or contents; a service may make only the calls granted to it by name.
import { isGranted, type Caller, type Role, type ServiceGrants } from '#libs/auth';

export type CallName =
  | 'ResolveCustomer'
  | 'GetCustomer'
  | 'GetHistory'
  | 'GetCustomerContext'
  | 'LinkIdentity'
  | 'SetFlag'
  | 'MergeCustomers'
  | 'UnmergeCustomer'
  | 'UpsertAccount'
  | 'ListAudit'
  | 'UpsertIntermediary'
  | 'GrantMandate'
  | 'RevokeMandate'
  | 'SearchConversations'
  | 'OpenAttachment'
  | 'ExportCustomer'
  | 'EraseCustomer'
  | 'FindCustomers'
  | 'StreamCustomerExport';

export const PERMISSIONS: Record<CallName, readonly Role[]> = {
  // Finding a customer by an identity is a supervisor's look-up: agents reach customers through conversations.
  ResolveCustomer: ['supervisor'],
  GetCustomer: ['agent', 'expert', 'supervisor', 'ops', 'service'],
  // ops gets the entries with contents removed.
  GetHistory: ['agent', 'expert', 'supervisor', 'ops', 'service'],
  GetCustomerContext: ['agent', 'expert', 'supervisor', 'ops', 'service'],
  LinkIdentity: ['agent', 'expert', 'supervisor'],
  SetFlag: ['supervisor'],
  MergeCustomers: ['supervisor'],
  UnmergeCustomer: ['supervisor'],
  UpsertAccount: ['supervisor', 'service'],
  ListAudit: ['supervisor'],
  // Who may speak for a customer is a supervisor's decision, audited.
  UpsertIntermediary: ['supervisor'],
  GrantMandate: ['supervisor'],
  RevokeMandate: ['supervisor'],
  // Agents and experts find what they may read; ops and the integration API metadata only (api/search.ts).
  SearchConversations: ['agent', 'expert', 'supervisor', 'ops', 'service'],
  // Files are contents: the people who see texts, never ops or a service.
  OpenAttachment: ['agent', 'expert', 'supervisor'],
  // Data-protection requests are the data-protection officer's alone, and privacy may call nothing else.
  ExportCustomer: ['privacy'],
  EraseCustomer: ['privacy'],
  // The officer finds the customer a request is about; nobody else looks customers up this way.
  FindCustomers: ['privacy'],
  StreamCustomerExport: ['privacy'],
};

/**
 * What each service (a service token's caller id is the service's name) may call. routing
 * reads a contact's flags and account manager (services/routing/src/customers.ts); the
 * integration API reads a customer and their history for an API key with the customers:read
 * scope, always with a reason naming the key, and lists ended conversations, which routing no
 * longer holds, from the search index (services/integration-api). A service not listed
 * may call nothing.
 */
const SERVICE_GRANTS: ServiceGrants<CallName> = {
  routing: ['GetCustomerContext'],
  'integration-api': ['GetCustomer', 'GetHistory', 'SearchConversations'],
};

/** The role allows the call, and for a service its name does. */
export function mayCall(caller: Caller, name: CallName): boolean {
  return PERMISSIONS[name].includes(caller.role) && isGranted(SERVICE_GRANTS, caller, name);
}

/** Roles that see message texts and subjects. */
export function seesContents(role: Role): boolean {
  return role === 'agent' || role === 'expert' || role === 'supervisor';
}

/**
 * The services that may ask for contents in a history read: the integration API, for an API key
 * with the scope conversations:read-texts, always with a reason naming the key (audited).
 */
const SERVICES_SEEING_CONTENTS: readonly string[] = ['integration-api'];

/** A service caller that asked for contents, may have them and said why. */
export function serviceSeesContents(caller: Caller, asked: boolean, reason: string): boolean {
  return asked && caller.role === 'service' && SERVICES_SEEING_CONTENTS.includes(caller.id) && reason.trim().length >= 3;
}

/** Roles that see who the customer is (name, identities); ops sees flags and counts only. */
export function seesIdentity(role: Role): boolean {
  return role !== 'ops';
}
