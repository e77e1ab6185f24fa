// Who may call what. Reads are open to the people who serve customers; changes to flags,
// merges and the audit log are a supervisor's; ops sees counts and flags, never contents.
import type { Role } from '../../../libs/auth';

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
  | 'ListAudit';

export const PERMISSIONS: Record<CallName, readonly Role[]> = {
  ResolveCustomer: ['agent', 'expert', 'supervisor', 'service'],
  GetCustomer: ['agent', 'expert', 'supervisor', 'ops', 'service'],
  // ops gets the entries with contents removed.
  GetHistory: ['agent', 'expert', 'supervisor', 'ops', 'service'],
  GetCustomerContext: ['agent', 'expert', 'supervisor', 'ops', 'service'],
  LinkIdentity: ['agent', 'expert', 'supervisor', 'service'],
  SetFlag: ['supervisor'],
  MergeCustomers: ['supervisor'],
  UnmergeCustomer: ['supervisor'],
  UpsertAccount: ['supervisor', 'service'],
  ListAudit: ['supervisor'],
};

/** Roles that see message texts and subjects. */
export function seesContents(role: Role): boolean {
  return role !== 'ops';
}
