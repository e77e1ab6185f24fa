import { describe, expect, it } from 'vitest';
import { Channel, IdentityKind, SearchConversationsRequest } from '#libs/proto';
import { InvalidArgumentError } from '#libs/service';
import { encodeCursor, ftsQuery, parseSearch } from '../src/search/filter';

const parse = (fields: Partial<SearchConversationsRequest>) => parseSearch(SearchConversationsRequest.fromPartial(fields), 'US');
const refused = (fields: Partial<SearchConversationsRequest>, message: RegExp) => expect(() => parse(fields)).toThrow(message);

describe('search filter', () => {
  it('reads every field into the filter', () => {
    const f = parse({
      customerId: 'cust-1',
      identity: { kind: IdentityKind.IDENTITY_KIND_PHONE, value: '(415) 555-0100', namespace: '' },
      agentId: 'agent-7',
      queue: 'tier1/billing/sms',
      channel: 'sms',
      state: 'open',
      activeFrom: '2025-03-01',
      activeTo: '2025-03-02T12:00:00+01:00',
      words: 'Refund, please!',
      pageSize: 20,
    });
    expect(f).toMatchObject({
      customerId: 'cust-1',
      identity: { kind: IdentityKind.IDENTITY_KIND_PHONE, value: '+14155550100' },
      agentId: 'agent-7',
      queue: 'tier1/billing/sms',
      channel: Channel.CHANNEL_SMS,
      states: ['queued', 'assigned'],
      activeFrom: Date.parse('2025-03-01T00:00:00Z'),
      activeTo: Date.parse('2025-03-02T11:00:00Z'),
      match: '"refund" AND "please"',
      limit: 20,
    });
  });

  it('takes closed as both ends and a conversation id as typed, checked', () => {
    expect(parse({ state: 'closed', conversationId: 'api:shop:t-1' })).toMatchObject({ states: ['resolved', 'abandoned'], conversationId: 'api:shop:t-1' });
    refused({ conversationId: 'no spaces' }, /conversation_id must be 1-128 letters/);
  });

  it('filters nothing for an empty request, 50 a page', () => {
    expect(parse({})).toEqual({ limit: 50, activeFrom: undefined, activeTo: undefined, match: undefined, after: undefined });
  });

  it('refuses each malformed field with its own message', () => {
    refused({ activeFrom: 'yesterday' }, /active_from must be an RFC 3339 time/);
    refused({ activeTo: '2025-02-30T00:00:00Z' }, /active_to is not a real time/);
    refused({ activeFrom: '2025-03-02', activeTo: '2025-03-01' }, /active_from must be before active_to/);
    refused({ state: 'ended' }, /state must be one of open, queued, assigned, resolved, abandoned, closed; got "ended"/);
    refused({ state: 'toString' }, /state must be one of/);
    refused({ channel: 'fax' }, /channel must be one of email, sms, voice, chat, api; got "fax"/);
    refused({ words: 'x'.repeat(201) }, /words is longer than 200 characters/);
    refused({ words: '*** --- ^' }, /words has no letters or digits/);
    refused({ words: 'a b c d e f g h i' }, /at most 8 words/);
    refused({ queue: 'bad queue' }, /queue must be/);
    refused({ pageSize: 500 }, /page_size must be between 1 and 200/);
    refused({ pageToken: 'not-a-token' }, /page_token is not one this service issued/);
    refused({ identity: { kind: IdentityKind.IDENTITY_KIND_EMAIL, value: 'nobody', namespace: '' } }, /identity: not an email address/);
    expect(() => parse({ state: 'ended' })).toThrow(InvalidArgumentError);
  });

  it('gives back the cursor it issued, and refuses one of a search by words for another search and the other way round', () => {
    const byActivity = encodeCursor({ lastActivityAt: 1_700_000_000_000, seq: 42 });
    const byWords = encodeCursor({ messageSeq: 1_781_760_000_000_512 });
    expect(parse({ pageToken: byActivity }).after).toEqual({ lastActivityAt: 1_700_000_000_000, seq: 42 });
    expect(parse({ pageToken: byWords, words: 'refund' }).after).toEqual({ messageSeq: 1_781_760_000_000_512 });
    refused({ pageToken: byWords }, /page_token is not one this service issued for this search/);
    refused({ pageToken: byActivity, words: 'refund' }, /page_token is not one this service issued for this search/);
  });
});

describe('FTS escaping', () => {
  it('quotes every word, so no FTS operator in the input reaches the query', () => {
    expect(ftsQuery('refund OR NOT "card" NEAR(a b) col:*')).toBe('"refund" AND "or" AND "not" AND "card" AND "near" AND "a" AND "b" AND "col"');
  });

  it('keeps letters of any script and drops repeats', () => {
    expect(ftsQuery('Café café Zürich 42')).toBe('"café" AND "zürich" AND "42"');
  });

  it('searches nothing for blank words', () => {
    expect(ftsQuery('   ')).toBeUndefined();
    expect(ftsQuery('')).toBeUndefined();
  });
});
