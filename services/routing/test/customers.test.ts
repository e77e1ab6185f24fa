// The customer-record look-up over real gRPC: a customer-record that does not answer costs each
// contact at most the deadline, and after a few failures in a row none at all for a while; an
// unknown sender is a new customer, not a failure.
import { Server, ServerCredentials, status, type sendUnaryData } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { Channel, ContactReceived, CustomerRecordServiceService, IdentityKind } from '#libs/proto';
import { testContext } from '#libs/testing';
import { customerRecordLookup } from '../src/customers';

describe('the customer-record look-up', () => {
  it('routes without flags when customer-record hangs, and stops asking it after five failures in a row', async () => {
    let calls = 0;
    const server = new Server();
    // Every call is left unanswered, as a customer-record waiting on a store that is gone.
    const hang = () => {
      calls++;
    };
    server.addService(CustomerRecordServiceService, new Proxy({}, { get: () => hang }) as never);
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
    );
    const ctx = testContext('routing-lookup');
    const client = customerRecordLookup(`127.0.0.1:${port}`, async () => 'token', ctx.logger, 100);
    const contact = ContactReceived.fromPartial({
      conversationId: 'c1',
      contactId: 'm1',
      channel: Channel.CHANNEL_EMAIL,
      sender: { kind: IdentityKind.IDENTITY_KIND_EMAIL, value: 'ana@example.com' },
    });
    try {
      for (let i = 0; i < 5; i++) expect(await client.lookup(contact)).toEqual({});
      expect(calls).toBe(5);
      for (let i = 0; i < 20; i++) expect(await client.lookup(contact)).toEqual({});
      expect(calls).toBe(5);
    } finally {
      client.close();
      server.forceShutdown();
      await ctx.stop();
    }
  });

  it('takes an unknown sender as a new customer, not a failure: it keeps asking', async () => {
    let calls = 0;
    const server = new Server();
    const unknown = (_call: unknown, done: sendUnaryData<never>) => {
      calls++;
      done({ code: status.NOT_FOUND, details: 'no customer has this identity' });
    };
    server.addService(CustomerRecordServiceService, new Proxy({}, { get: () => unknown }) as never);
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
    );
    const ctx = testContext('routing-lookup');
    const client = customerRecordLookup(`127.0.0.1:${port}`, async () => 'token', ctx.logger, 1000);
    const contact = ContactReceived.fromPartial({
      conversationId: 'c2',
      contactId: 'm2',
      channel: Channel.CHANNEL_SMS,
      sender: { kind: IdentityKind.IDENTITY_KIND_PHONE, value: '+15550100' },
    });
    try {
      for (let i = 0; i < 8; i++) expect(await client.lookup(contact)).toEqual({});
      expect(calls).toBe(8);
    } finally {
      client.close();
      server.forceShutdown();
      await ctx.stop();
    }
  });
});
