// Over real gRPC: customer-record takes only tokens its callers' issuers may mint, for itself.
import { status, type ServiceError } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { refusedTokens, testToken } from '#libs/testing';
import { dropDatabase, startHarness, type Harness } from './harness';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ env: { PROJECTION_ENABLED: 'false' } });
});
afterAll(async () => {
  await h?.stop();
  if (h) await dropDatabase(h.database);
});

const outcome = (token: string) =>
  h.call('getCustomerContext', { customerId: 'no-such-customer', reason: 'checking which tokens are taken' }, null, token).then(
    () => 'accepted',
    (err: ServiceError) => `${status[err.code]}: ${err.details}`,
  );

describe('tokens customer-record refuses', () => {
  it('takes a supervisor token from the desk and a service token from routing', async () => {
    expect(await outcome(await testToken({ id: 'sue', role: 'supervisor' }, 'customer-record'))).toMatch(/^NOT_FOUND/);
    expect(await outcome(await testToken({ id: 'routing', role: 'service' }, 'customer-record'))).toMatch(/^NOT_FOUND/);
  });

  it('refuses what an issuer may not mint, forged, expired, unbounded or addressed elsewhere', async () => {
    const results = Object.fromEntries(
      await Promise.all(Object.entries(await refusedTokens('customer-record')).map(async ([what, token]) => [what, await outcome(token)])),
    );
    expect(results).toEqual({
      'a supervisor token signed with the sms-voice key': 'PERMISSION_DENIED: invalid token: sms-voice may not mint tokens with role supervisor',
      'a service token sms-voice mints for routing': 'PERMISSION_DENIED: invalid token: sms-voice may mint a service token only for itself, not for routing',
      'an ops token signed with the desk key': 'PERMISSION_DENIED: invalid token: agent-desk may not mint tokens with role ops',
      'a token without exp': 'UNAUTHENTICATED: invalid token: token has no expiry (exp)',
      'a token for routing': 'UNAUTHENTICATED: invalid token: token is for routing, not for customer-record',
      'an HS256 token made with the old shared secret': 'UNAUTHENTICATED: invalid token: token is signed with HS256; only EdDSA is accepted',
      'a token from a key nobody trusts': 'UNAUTHENTICATED: invalid token: token is signed with a key this service does not trust',
      'a token living eight hours': 'UNAUTHENTICATED: invalid token: token lives 28800 s, longer than the 900 s allowed',
      'an expired token': 'UNAUTHENTICATED: invalid token: token has expired',
    });
  });

  it('refuses sms-voice calling it as a service: sms-voice calls routing only', async () => {
    expect(await outcome(await testToken({ id: 'sms-voice', role: 'service' }, 'customer-record'))).toBe(
      'PERMISSION_DENIED: invalid token: sms-voice may not call customer-record as a service',
    );
  });
});
