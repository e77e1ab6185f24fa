// Over real gRPC: routing takes only tokens its callers' issuers may mint, for itself.
import { credentials, Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RoutingServiceClient } from '#libs/proto';
import { refusedTokens, testContext, testToken, uniqueId } from '#libs/testing';
import { startRouting } from '../src/service';
import { configFor, useRoutingHarness } from './helpers';

const h = useRoutingHarness();
const ctx = testContext('routing');
let client: RoutingServiceClient;

beforeAll(async () => {
  const routing = await startRouting(ctx, configFor(h.database('routing_tokens'), uniqueId('routing-tokens')));
  client = new RoutingServiceClient(`127.0.0.1:${routing.grpcPort}`, credentials.createInsecure());
});
afterAll(async () => {
  client?.close();
  await ctx.stop();
});

const outcome = (token: string) =>
  new Promise<string>((resolve) => {
    const md = new Metadata();
    md.set('authorization', `Bearer ${token}`);
    client.getQueueStats({}, md, (err: ServiceError | null) => resolve(err ? `${status[err.code]}: ${err.details}` : 'accepted'));
  });

describe('tokens routing refuses', () => {
  it("takes the desk's staff tokens, and a service's own only for what that service uses", async () => {
    expect(await outcome(await testToken({ id: 'sue', role: 'supervisor' }, 'routing'))).toBe('accepted');
    expect(await outcome(await testToken({ id: 'ops-console', role: 'service' }, 'routing'))).toBe('accepted');
    // sms-voice asks for wait estimates only: queue statistics are the console's.
    expect(await outcome(await testToken({ id: 'sms-voice', role: 'service' }, 'routing'))).toBe('PERMISSION_DENIED: service sms-voice may not make this call');
  });

  it('refuses what an issuer may not mint, forged, expired, unbounded or addressed elsewhere', async () => {
    const results = Object.fromEntries(
      await Promise.all(Object.entries(await refusedTokens('routing')).map(async ([what, token]) => [what, await outcome(token)])),
    );
    expect(results).toEqual({
      'a supervisor token signed with the sms-voice key': 'PERMISSION_DENIED: invalid token: sms-voice may not mint tokens with role supervisor',
      'a service token sms-voice mints for routing': 'PERMISSION_DENIED: invalid token: sms-voice may mint a service token only for itself, not for routing',
      'an ops token signed with the desk key': 'PERMISSION_DENIED: invalid token: agent-desk may not mint tokens with role ops',
      'a token without exp': 'UNAUTHENTICATED: invalid token: token has no expiry (exp)',
      'a token for customer-record': 'UNAUTHENTICATED: invalid token: token is for customer-record, not for routing',
      'an HS256 token made with the old shared secret': 'UNAUTHENTICATED: invalid token: token is signed with HS256; only EdDSA is accepted',
      'a token from a key nobody trusts': 'UNAUTHENTICATED: invalid token: token is signed with a key this service does not trust',
      'a token living eight hours': 'UNAUTHENTICATED: invalid token: token lives 28800 s, longer than the 900 s allowed',
      'an expired token': 'UNAUTHENTICATED: invalid token: token has expired',
    });
  });

  it('refuses routing calling itself as a service, and a supervisor on the wait estimates from sms-voice', async () => {
    expect(await outcome(await testToken({ id: 'routing', role: 'service' }, 'routing'))).toBe(
      'PERMISSION_DENIED: invalid token: routing may not call routing as a service',
    );
    const md = new Metadata();
    md.set('authorization', `Bearer ${await testToken({ id: 'sms-voice', role: 'supervisor' }, 'routing', { issuer: 'sms-voice' })}`);
    const err = await new Promise<ServiceError | null>((resolve) => client.reassign({ conversationId: 'c', toAgentId: 'mallory' }, md, resolve));
    expect(err).toMatchObject({ code: status.PERMISSION_DENIED });
  });

  it('will not call customer-record without a key of its own', async () => {
    const other = testContext('routing');
    const config = {
      ...configFor(h.database('routing_tokens'), uniqueId('routing-tokens')),
      CUSTOMER_RECORD_GRPC_ADDR: '127.0.0.1:9',
      AUTH_PRIVATE_KEY_FILE: undefined,
    };
    try {
      await expect(startRouting(other, config)).rejects.toThrow(/AUTH_PRIVATE_KEY_FILE: must be set when CUSTOMER_RECORD_GRPC_ADDR is/);
    } finally {
      await other.stop();
    }
  });
});
