// The verifier's rules over a token's claims, without keys or servers.
import { describe, expect, it } from 'vitest';
import { callerFromClaims, MAX_TOKEN_LIFETIME_SECONDS, TokenRuleError, type ClaimContext } from './issuers';

const now = 1_800_000_000;
const at = (keyIssuer: ClaimContext['keyIssuer'], audience: ClaimContext['audience'] = 'customer-record'): ClaimContext => ({
  keyIssuer,
  audience,
  nowSeconds: now,
});
const claims = (over: Record<string, unknown> = {}) => ({
  iss: 'agent-desk',
  sub: 'ana',
  role: 'agent',
  aud: 'customer-record',
  iat: now - 10,
  exp: now + 590,
  ...over,
});

function refusal(run: () => unknown): { kind: string; message: string } {
  try {
    run();
  } catch (err) {
    if (err instanceof TokenRuleError) return { kind: err.kind, message: err.message };
    throw err;
  }
  throw new Error('the claims were accepted');
}

describe('token claims', () => {
  it('names the caller of a well-formed token', () => {
    expect(callerFromClaims(claims(), at('agent-desk'))).toEqual({ id: 'ana', role: 'agent' });
    expect(callerFromClaims(claims({ aud: ['customer-record'] }), at('agent-desk'))).toEqual({ id: 'ana', role: 'agent' });
  });

  it('lets each issuer mint only its own roles', () => {
    for (const role of ['agent', 'expert', 'supervisor']) expect(callerFromClaims(claims({ role }), at('agent-desk')).role).toBe(role);
    for (const role of ['ops', 'supervisor']) expect(callerFromClaims(claims({ iss: 'ops-console', role }), at('ops-console')).role).toBe(role);
    expect(refusal(() => callerFromClaims(claims({ role: 'ops' }), at('agent-desk')))).toEqual({
      kind: 'permission_denied',
      message: 'agent-desk may not mint tokens with role ops',
    });
    expect(refusal(() => callerFromClaims(claims({ iss: 'ops-console', role: 'agent' }), at('ops-console'))).kind).toBe('permission_denied');
    expect(refusal(() => callerFromClaims(claims({ role: 'service', sub: 'agent-desk' }), at('agent-desk'))).message).toBe(
      'agent-desk may not call customer-record as a service',
    );
  });

  it('refuses a channel service minting a supervisor, or a service token for anyone but itself', () => {
    expect(refusal(() => callerFromClaims(claims({ iss: 'sms-voice', role: 'supervisor', aud: 'routing' }), at('sms-voice', 'routing')))).toEqual({
      kind: 'permission_denied',
      message: 'sms-voice may not mint tokens with role supervisor',
    });
    expect(
      refusal(() => callerFromClaims(claims({ iss: 'sms-voice', role: 'service', sub: 'routing', aud: 'routing' }), at('sms-voice', 'routing'))).message,
    ).toBe('sms-voice may mint a service token only for itself, not for routing');
    expect(callerFromClaims(claims({ iss: 'sms-voice', role: 'service', sub: 'sms-voice', aud: 'routing' }), at('sms-voice', 'routing'))).toEqual({
      id: 'sms-voice',
      role: 'service',
    });
    // sms-voice calls routing only; customer-record is not among its calls.
    expect(refusal(() => callerFromClaims(claims({ iss: 'sms-voice', role: 'service', sub: 'sms-voice' }), at('sms-voice'))).message).toBe(
      'sms-voice may not call customer-record as a service',
    );
    expect(callerFromClaims(claims({ iss: 'routing', role: 'service', sub: 'routing' }), at('routing'))).toEqual({ id: 'routing', role: 'service' });
  });

  it('binds the issuer claim to the key that signed', () => {
    expect(refusal(() => callerFromClaims(claims({ iss: 'agent-desk' }), at('sms-voice'))).message).toBe(
      "token names issuer agent-desk but is signed with sms-voice's key",
    );
    expect(refusal(() => callerFromClaims(claims({ iss: 'contactcenter' }), at('agent-desk'))).kind).toBe('unauthenticated');
  });

  it('requires the audience to be exactly the service called', () => {
    expect(refusal(() => callerFromClaims(claims({ aud: 'routing' }), at('agent-desk'))).message).toBe('token is for routing, not for customer-record');
    expect(refusal(() => callerFromClaims(claims({ aud: undefined }), at('agent-desk'))).message).toMatch(/no audience/);
    expect(refusal(() => callerFromClaims(claims({ aud: ['routing', 'customer-record'] }), at('agent-desk'))).message).toMatch(/not for customer-record/);
  });

  it('requires exp and iat, and bounds the lifetime', () => {
    expect(refusal(() => callerFromClaims(claims({ exp: undefined }), at('agent-desk'))).message).toBe('token has no expiry (exp)');
    expect(refusal(() => callerFromClaims(claims({ iat: undefined }), at('agent-desk'))).message).toBe('token has no issue time (iat)');
    expect(refusal(() => callerFromClaims(claims({ exp: String(now + 60) }), at('agent-desk'))).message).toBe('token has no expiry (exp)');
    expect(refusal(() => callerFromClaims(claims({ iat: now, exp: now + MAX_TOKEN_LIFETIME_SECONDS + 1 }), at('agent-desk'))).message).toMatch(
      /lives 901 s, longer than the 900 s allowed/,
    );
    expect(callerFromClaims(claims({ iat: now, exp: now + MAX_TOKEN_LIFETIME_SECONDS }), at('agent-desk')).id).toBe('ana');
    expect(refusal(() => callerFromClaims(claims({ iat: now - 700, exp: now - 100 }), at('agent-desk'))).message).toBe('token has expired');
    expect(refusal(() => callerFromClaims(claims({ iat: now + 120, exp: now + 600 }), at('agent-desk'))).message).toBe('token is issued in the future (iat)');
    expect(refusal(() => callerFromClaims(claims({ nbf: now + 300 }), at('agent-desk'))).message).toMatch(/not valid yet/);
    // Within the clock tolerance between hosts.
    expect(callerFromClaims(claims({ iat: now - 600, exp: now - 10 }), at('agent-desk')).id).toBe('ana');
  });

  it('requires a subject and a known role', () => {
    expect(refusal(() => callerFromClaims(claims({ sub: '' }), at('agent-desk'))).message).toMatch(/no valid subject/);
    expect(refusal(() => callerFromClaims(claims({ sub: 'x'.repeat(201) }), at('agent-desk'))).message).toMatch(/no valid subject/);
    expect(refusal(() => callerFromClaims(claims({ role: 'admin' }), at('agent-desk'))).message).toBe('token has no valid role');
  });

  it('quotes a sender-chosen claim only briefly', () => {
    expect(refusal(() => callerFromClaims(claims({ aud: 'a'.repeat(500) }), at('agent-desk'))).message.length).toBeLessThan(120);
  });
});
