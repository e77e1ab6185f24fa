import { describe, expect, it } from 'vitest';
import { AdmissionRefused, ChatAdmission, TRY_AGAIN_LATER } from '../src/admission';

const limits = { socketsPerAddress: 2, socketsTotal: 3, conversationsPerAddress: 2, conversationsTotal: 3, conversationWindowMs: 60_000 };
const refusal = (run: () => void) => {
  try {
    run();
  } catch (err) {
    if (err instanceof AdmissionRefused) return { code: err.code, limit: err.limit };
    throw err;
  }
  return undefined;
};

describe('chat admission rules', () => {
  it('counts sockets per address and in total, and gives a place back when one closes', () => {
    const a = new ChatAdmission(limits);
    a.openSocket('x');
    a.openSocket('x');
    expect(refusal(() => a.openSocket('x'))).toEqual({ code: TRY_AGAIN_LATER, limit: 'sockets-per-address' });
    a.openSocket('y');
    expect(refusal(() => a.openSocket('z'))).toEqual({ code: TRY_AGAIN_LATER, limit: 'sockets-total' });
    a.closeSocket('x');
    expect(a.openSockets).toBe(2);
    expect(refusal(() => a.openSocket('x'))).toBeUndefined();
    // Closing an address never counted does not make room.
    a.closeSocket('never-seen');
    expect(a.openSockets).toBe(3);
  });

  it('counts new conversations per address and in total per window; a refusal by one cap uses up neither', () => {
    const a = new ChatAdmission(limits);
    a.startConversation('x', 0);
    a.startConversation('x', 1);
    expect(refusal(() => a.startConversation('x', 2))).toEqual({ code: TRY_AGAIN_LATER, limit: 'conversations-per-address' });
    a.startConversation('y', 3);
    expect(refusal(() => a.startConversation('z', 4))).toEqual({ code: TRY_AGAIN_LATER, limit: 'conversations-total' });
    // The next window starts afresh for everyone.
    a.startConversation('x', 60_001);
    a.startConversation('z', 60_002);
    expect(refusal(() => a.startConversation('y', 60_003))).toBeUndefined();
  });
});
