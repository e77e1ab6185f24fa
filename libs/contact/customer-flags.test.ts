import { describe, expect, it } from 'vitest';
import { FlagKind } from '../proto';
import { CUSTOMER_FLAGS, customerFlagName, FLAG_KIND, flagsOn, isCustomerFlagName } from './customer-flags';

describe('customer flags', () => {
  it('map each name to its kind and back', () => {
    expect(FLAG_KIND).toEqual({ regular: FlagKind.FLAG_KIND_REGULAR, vip: FlagKind.FLAG_KIND_VIP, institutional: FlagKind.FLAG_KIND_INSTITUTIONAL });
    for (const name of CUSTOMER_FLAGS) expect(customerFlagName(FLAG_KIND[name])).toBe(name);
    expect(customerFlagName(FlagKind.FLAG_KIND_UNSPECIFIED)).toBeUndefined();
    expect(customerFlagName(FlagKind.UNRECOGNIZED)).toBeUndefined();
  });

  it('tell a flag name from other words', () => {
    expect(CUSTOMER_FLAGS.every(isCustomerFlagName)).toBe(true);
    for (const other of ['VIP', 'gold', '']) expect(isCustomerFlagName(other)).toBe(false);
  });

  it('are on when the customer has them on or the account says so, each once', () => {
    const flag = (kind: FlagKind, on: boolean) => ({ kind, on });
    expect(flagsOn({})).toEqual([]);
    expect(
      flagsOn({
        customer: { flags: [flag(FlagKind.FLAG_KIND_REGULAR, true), flag(FlagKind.FLAG_KIND_VIP, false), flag(FlagKind.FLAG_KIND_UNSPECIFIED, true)] },
      }),
    ).toEqual(['regular']);
    expect(flagsOn({ customer: { flags: [flag(FlagKind.FLAG_KIND_VIP, true)] }, account: { vip: true, institutional: true } })).toEqual([
      'vip',
      'institutional',
    ]);
    expect(flagsOn({ customer: { flags: [flag(FlagKind.FLAG_KIND_VIP, false)] }, account: { vip: true, institutional: false } })).toEqual(['vip']);
  });
});
