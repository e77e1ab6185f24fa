import { describe, expect, it } from 'vitest';
import { chooseOwner, decodeMemberState, encodeMemberState } from '../src/ownership';

describe('which routing instance is active', () => {
  it('keeps the work with the member already active, wherever it sorts', () => {
    expect(
      chooseOwner([
        { memberId: 'a', active: false },
        { memberId: 'b', active: true },
      ]),
    ).toBe('b');
    expect(
      chooseOwner([
        { memberId: 'z', active: true },
        { memberId: 'a', active: false },
      ]),
    ).toBe('z');
  });

  it('gives the work to the first member by id when none is active, and to nobody in an empty group', () => {
    expect(
      chooseOwner([
        { memberId: 'm-2', active: false },
        { memberId: 'm-1', active: false },
      ]),
    ).toBe('m-1');
    expect(chooseOwner([])).toBeUndefined();
  });

  it('picks one owner even if two members both claim to be active', () => {
    expect(
      chooseOwner([
        { memberId: 'y', active: true },
        { memberId: 'x', active: true },
      ]),
    ).toBe('x');
  });

  it('reads what members say about themselves, and takes anything unreadable as a standby', () => {
    expect(decodeMemberState(encodeMemberState(true))).toBe(true);
    expect(decodeMemberState(encodeMemberState(false))).toBe(false);
    expect(decodeMemberState(Buffer.from('not json'))).toBe(false);
    expect(decodeMemberState(Buffer.from('{"active":"yes"}'))).toBe(false);
    expect(decodeMemberState(Buffer.alloc(0))).toBe(false);
    expect(decodeMemberState(null)).toBe(false);
  });
});
