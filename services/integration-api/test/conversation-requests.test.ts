// The conversation routes' rules without a server: the list query, the bodies, the request id a
// retry shares, and who the company may write to first.
import { describe, expect, it } from 'vitest';
import { Channel, Customer, IdentityKind } from '#libs/proto';
import { recipientRefusal } from '#libs/contact';
import { conversationListQuery, listRequest, recipientOf, recordRequest, requestIdOf, startBody, transferBody } from '../src/conversation-requests';

describe('the conversation list query', () => {
  it('defaults to open conversations, 50 a page, and maps to routing filters', () => {
    expect(listRequest(conversationListQuery.parse({}))).toEqual({ state: 'open', queue: '', channel: 0, customerId: '', pageSize: 50, pageToken: '' });
    expect(listRequest(conversationListQuery.parse({ state: 'all', channel: 'sms', customerId: 'cust-1', limit: '5', cursor: 'abc' }))).toEqual({
      state: '',
      queue: '',
      channel: Channel.CHANNEL_SMS,
      customerId: 'cust-1',
      pageSize: 5,
      pageToken: 'abc',
    });
  });

  it('asks the record for ended conversations, or all, naming the key', () => {
    const q = conversationListQuery.parse({ state: 'resolved', channel: 'api', limit: '7', cursor: 'abc' });
    expect(recordRequest(q, 'API key k1 (shop): conversations listed')).toMatchObject({
      state: 'closed',
      channel: 'api',
      pageSize: 7,
      pageToken: 'abc',
      reason: 'API key k1 (shop): conversations listed',
      conversationId: '',
      words: '',
    });
    expect(recordRequest(conversationListQuery.parse({ state: 'all' }), 'r', 'conv-1')).toMatchObject({ state: '', conversationId: 'conv-1', pageSize: 50 });
  });

  it('refuses what the document does not allow', () => {
    for (const bad of [{ state: 'closed' }, { queue: 'billing' }, { channel: 'fax' }, { limit: '0' }, { limit: '201' }, { cursor: 'a=b' }, { other: '1' }])
      expect(conversationListQuery.safeParse(bad).success, JSON.stringify(bad)).toBe(false);
  });
});

describe('the bodies', () => {
  it('transfer names exactly one of a queue and an agent', () => {
    expect(transferBody.safeParse({ toQueue: 'tier1/billing/email' }).success).toBe(true);
    expect(transferBody.safeParse({ toAgentId: 'a1', note: 'VIP' }).success).toBe(true);
    expect(transferBody.safeParse({}).success).toBe(false);
    expect(transferBody.safeParse({ toQueue: 'tier1/billing/email', toAgentId: 'a1' }).success).toBe(false);
  });

  it('a start is on email to an address or on SMS to a number, never chat', () => {
    expect(startBody.safeParse({ channel: 'email', customerId: 'c1', to: 'kim@example.org', subject: 'Hi', text: 'Your order is ready.' }).success).toBe(true);
    expect(startBody.safeParse({ channel: 'sms', customerId: 'c1', to: '+15005550006', text: 'Ready.' }).success).toBe(true);
    expect(startBody.safeParse({ channel: 'sms', customerId: 'c1', to: 'kim@example.org', text: 'Ready.' }).success).toBe(false);
    expect(startBody.safeParse({ channel: 'sms', customerId: 'c1', to: '+15005550006', subject: 'x', text: 'Ready.' }).success).toBe(false);
    expect(startBody.safeParse({ channel: 'chat', customerId: 'c1', to: 'v1', text: 'Ready.' }).success).toBe(false);
    expect(startBody.safeParse({ channel: 'email', customerId: 'c1', to: 'kim@example.org', text: ' ' }).success).toBe(false);
  });
});

describe('request ids', () => {
  it('are the same for the same key and Idempotency-Key, different otherwise, and empty without one', () => {
    expect(requestIdOf('k1', 'order-1')).toBe(requestIdOf('k1', 'order-1'));
    expect(requestIdOf('k1', 'order-1')).not.toBe(requestIdOf('k2', 'order-1'));
    expect(requestIdOf('k1', undefined)).toBe('');
  });
});

describe('who the company may write to first', () => {
  const email = (value: string) => ({ kind: IdentityKind.IDENTITY_KIND_EMAIL, value, namespace: '' });
  const customer = Customer.fromPartial({ customerId: 'c1', identities: [email('kim@example.org')], claimedIdentities: [email('boss@example.org')] });

  it('a verified identity, compared as customer-record keeps it', () => {
    expect(recipientRefusal(customer, recipientOf({ channel: 'email', to: 'Kim@Example.org' }))).toBeUndefined();
  });

  it('never a claim, an unknown address, another kind or a merged customer', () => {
    expect(recipientRefusal(customer, recipientOf({ channel: 'email', to: 'boss@example.org' }))).toMatch(/only said/);
    expect(recipientRefusal(customer, recipientOf({ channel: 'email', to: 'other@example.org' }))).toMatch(/not one of/);
    expect(recipientRefusal(customer, recipientOf({ channel: 'sms', to: '+15005550006' }))).toMatch(/not one of/);
    expect(recipientRefusal({ ...customer, mergedInto: 'c2' }, recipientOf({ channel: 'email', to: 'kim@example.org' }))).toMatch(/merged into c2/);
  });
});
