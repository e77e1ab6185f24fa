// The customer flags by name, as routing's rules and the desk's badges use them, and as the
// customer record's FlagKind carries them.
import { FlagKind } from '../proto';

export const CUSTOMER_FLAGS = ['regular', 'vip', 'institutional'] as const;
export type CustomerFlagName = (typeof CUSTOMER_FLAGS)[number];

export const FLAG_KIND: Readonly<Record<CustomerFlagName, FlagKind>> = {
  regular: FlagKind.FLAG_KIND_REGULAR,
  vip: FlagKind.FLAG_KIND_VIP,
  institutional: FlagKind.FLAG_KIND_INSTITUTIONAL,
};

const NAMES = new Map<FlagKind, CustomerFlagName>(CUSTOMER_FLAGS.map((name) => [FLAG_KIND[name], name]));

/** The name of a flag kind; undefined for FLAG_KIND_UNSPECIFIED and kinds this build does not know. */
export function customerFlagName(kind: FlagKind): CustomerFlagName | undefined {
  return NAMES.get(kind);
}

export function isCustomerFlagName(value: string): value is CustomerFlagName {
  return (CUSTOMER_FLAGS as readonly string[]).includes(value);
}

/** What a customer context says of the flags (field by field, as GetCustomerContextResponse has them). */
export interface FlaggedContext {
  customer?: { flags: readonly { kind: FlagKind; on: boolean }[] } | undefined;
  account?: { vip: boolean; institutional: boolean } | undefined;
}

/** The flags that are on: the customer's own, and VIP and institutional from the account; each once. */
export function flagsOn(context: FlaggedContext): CustomerFlagName[] {
  const on = new Set<CustomerFlagName>();
  for (const f of context.customer?.flags ?? []) {
    const name = f.on ? customerFlagName(f.kind) : undefined;
    if (name) on.add(name);
  }
  if (context.account?.vip) on.add('vip');
  if (context.account?.institutional) on.add('institutional');
  return [...on];
}
