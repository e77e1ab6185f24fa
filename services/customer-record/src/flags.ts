// The regular-customer rule and how flags combine: supervisor overrides win over the rule,
// VIP and institutional come from the account.
import type { CustomerFlagName } from '#libs/contact';
import { FlagKind, FlagSource, type CustomerFlag } from '#libs/proto';

export interface RegularRule {
  minConversations: number;
  windowDays: number;
}

export const DEFAULT_REGULAR_RULE: RegularRule = { minConversations: 3, windowDays: 90 };

export interface StoredFlag {
  on: boolean;
  reason: string;
  source: FlagSource;
  setBy: string;
  setAt: Date;
}

const DAY_MS = 86_400_000;

export function conversationsInWindow(starts: readonly Date[], now: Date, windowDays: number): number {
  const from = now.getTime() - windowDays * DAY_MS;
  return starts.filter((d) => d.getTime() > from && d.getTime() <= now.getTime()).length;
}

/** Evaluates the rule at `now` (the start of the newest conversation), with the reason in words. */
export function evaluateRegular(starts: readonly Date[], now: Date, rule: RegularRule = DEFAULT_REGULAR_RULE): StoredFlag {
  const n = conversationsInWindow(starts, now, rule.windowDays);
  const counted = `${n} conversation${n === 1 ? '' : 's'} in the last ${rule.windowDays} days`;
  const on = n >= rule.minConversations;
  return {
    on,
    reason: on ? counted : `${counted} (regular from ${rule.minConversations})`,
    source: FlagSource.FLAG_SOURCE_RULE,
    setBy: 'rule',
    setAt: now,
  };
}

/** Where a customer's document keeps a supervisor's setting of a flag. */
export type FlagOverrideField = `${CustomerFlagName}Override`;

export function overrideField(flag: CustomerFlagName): FlagOverrideField {
  return `${flag}Override`;
}

export interface FlagInputs extends Partial<Record<FlagOverrideField, StoredFlag | null>> {
  regularRule?: StoredFlag | null;
  account?: { accountId: string; name: string; vip: boolean; institutional: boolean } | null;
}

/** The flags an agent sees: one per kind at most. */
export function effectiveFlags(inputs: FlagInputs): CustomerFlag[] {
  const flags: CustomerFlag[] = [];
  const regular = inputs.regularOverride ?? inputs.regularRule;
  if (regular) flags.push(toFlag(FlagKind.FLAG_KIND_REGULAR, regular));
  const fromAccount = (kind: FlagKind, on: boolean | undefined, override: StoredFlag | null | undefined, what: string) => {
    if (override) flags.push(toFlag(kind, override));
    else if (on && inputs.account)
      flags.push({
        kind,
        on: true,
        reason: `${what} account ${inputs.account.name || inputs.account.accountId}`,
        source: FlagSource.FLAG_SOURCE_ACCOUNT,
        setBy: inputs.account.accountId,
        setAt: undefined,
      });
  };
  fromAccount(FlagKind.FLAG_KIND_VIP, inputs.account?.vip, inputs.vipOverride, 'member of VIP');
  fromAccount(FlagKind.FLAG_KIND_INSTITUTIONAL, inputs.account?.institutional, inputs.institutionalOverride, 'member of institutional');
  return flags;
}

function toFlag(kind: FlagKind, f: StoredFlag): CustomerFlag {
  return { kind, on: f.on, reason: f.reason, source: f.source, setBy: f.setBy, setAt: f.setAt };
}

/** Supervisor's setting: a reason is required so the next agent knows why. */
export function supervisorFlag(on: boolean, reason: string, by: string, at: Date): StoredFlag {
  const text = reason.trim();
  return { on, reason: text || (on ? 'set by a supervisor' : 'cleared by a supervisor'), source: FlagSource.FLAG_SOURCE_SUPERVISOR, setBy: by, setAt: at };
}
