// Pure business rules: no servers, no store.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Channel, ConversationEvent, FlagKind, FlagSource, HistoryEntryKind, IdentityKind, ContactReceived, ContactKind } from '#libs/proto';
import { PERMISSIONS, seesContents } from '../src/authz';
import { effectiveFlags, evaluateRegular, supervisorFlag } from '../src/flags';
import { entryFromContact, entryFromConversationEvent } from '../src/history';
import { InvalidIdentityError, normaliseIdentity, toIdentity } from '#libs/contact';
import { MergeRefusedError, planMerge } from '../src/merge';

const DAY = 86_400_000;
const now = new Date('2026-11-22T12:00:00Z');
const daysAgo = (d: number) => new Date(now.getTime() - d * DAY);

describe('identity normalisation', () => {
  it('lower-cases emails and writes phones in E.164', () => {
    expect(normaliseIdentity({ kind: IdentityKind.IDENTITY_KIND_EMAIL, value: '  Ana.Lima@Example.COM ', namespace: '' }).value).toBe('ana.lima@example.com');
    expect(normaliseIdentity({ kind: IdentityKind.IDENTITY_KIND_PHONE, value: '+33 6 12 34 56 78', namespace: '' }).value).toBe('+33612345678');
    expect(normaliseIdentity({ kind: IdentityKind.IDENTITY_KIND_PHONE, value: '(415) 555-0123', namespace: '' }, 'US').value).toBe('+14155550123');
  });

  it('keeps the namespace of other identities apart', () => {
    const a = normaliseIdentity({ kind: IdentityKind.IDENTITY_KIND_OTHER, value: '42', namespace: 'CRM' });
    const b = normaliseIdentity({ kind: IdentityKind.IDENTITY_KIND_OTHER, value: '42', namespace: 'billing' });
    expect(a.value).not.toBe(b.value);
    expect(toIdentity(a)).toEqual({ kind: IdentityKind.IDENTITY_KIND_OTHER, value: '42', namespace: 'crm' });
  });

  it('refuses malformed identities with a message that does not repeat the value', () => {
    const bad = [
      { kind: IdentityKind.IDENTITY_KIND_EMAIL, value: 'not-an-email', namespace: '' },
      { kind: IdentityKind.IDENTITY_KIND_PHONE, value: '12', namespace: '' },
      { kind: IdentityKind.IDENTITY_KIND_CHAT_VISITOR, value: 'has spaces in it', namespace: '' },
      { kind: IdentityKind.IDENTITY_KIND_OTHER, value: 'x', namespace: '' },
      { kind: IdentityKind.IDENTITY_KIND_UNSPECIFIED, value: 'x', namespace: '' },
      { kind: IdentityKind.IDENTITY_KIND_EMAIL, value: '   ', namespace: '' },
    ];
    for (const identity of bad) expect(() => normaliseIdentity(identity)).toThrow(InvalidIdentityError);
    expect(() => normaliseIdentity({ kind: IdentityKind.IDENTITY_KIND_EMAIL, value: 'secretperson', namespace: '' })).toThrow(/^((?!secretperson).)*$/);
  });

  it('is idempotent: normalising a normalised email gives the same value', () => {
    fc.assert(
      fc.property(fc.emailAddress(), (email) => {
        const once = normaliseIdentity({ kind: IdentityKind.IDENTITY_KIND_EMAIL, value: email, namespace: '' });
        expect(normaliseIdentity(toIdentity(once)).value).toBe(once.value);
      }),
    );
  });
});

describe('regular-customer rule', () => {
  it('turns on at the third conversation in 90 days, with the reason in words', () => {
    expect(evaluateRegular([daysAgo(10), daysAgo(1)], now).on).toBe(false);
    const flag = evaluateRegular([daysAgo(80), daysAgo(10), now], now);
    expect(flag).toMatchObject({ on: true, reason: '3 conversations in the last 90 days', source: FlagSource.FLAG_SOURCE_RULE });
    expect(evaluateRegular([daysAgo(200), daysAgo(100), daysAgo(10), now], now)).toMatchObject({
      on: false,
      reason: '2 conversations in the last 90 days (regular from 3)',
    });
    expect(evaluateRegular([daysAgo(3), daysAgo(2), daysAgo(1), now], now).reason).toBe('4 conversations in the last 90 days');
  });

  it('follows a configured rule', () => {
    expect(evaluateRegular([daysAgo(20), now], now, { minConversations: 2, windowDays: 30 })).toMatchObject({
      on: true,
      reason: '2 conversations in the last 30 days',
    });
    expect(evaluateRegular([daysAgo(40), now], now, { minConversations: 2, windowDays: 30 }).on).toBe(false);
  });

  it('is on exactly when enough starts fall in the window', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 365 }), { maxLength: 20 }), (ages) => {
        const inWindow = ages.filter((a) => a < 90).length;
        expect(evaluateRegular(ages.map(daysAgo), now).on).toBe(inWindow >= 3);
      }),
    );
  });

  it('lets a supervisor override the rule, and takes VIP and institutional from the account', () => {
    const rule = evaluateRegular([daysAgo(1), daysAgo(2), now], now);
    const override = supervisorFlag(false, 'shared family phone', 'sup-1', now);
    const flags = effectiveFlags({
      regularRule: rule,
      regularOverride: override,
      account: { accountId: 'acme', name: 'ACME', vip: true, institutional: true },
    });
    expect(flags.find((f) => f.kind === FlagKind.FLAG_KIND_REGULAR)).toMatchObject({
      on: false,
      reason: 'shared family phone',
      source: FlagSource.FLAG_SOURCE_SUPERVISOR,
      setBy: 'sup-1',
    });
    expect(flags.find((f) => f.kind === FlagKind.FLAG_KIND_VIP)).toMatchObject({
      on: true,
      source: FlagSource.FLAG_SOURCE_ACCOUNT,
      reason: 'member of VIP account ACME',
    });
    expect(flags.find((f) => f.kind === FlagKind.FLAG_KIND_INSTITUTIONAL)?.on).toBe(true);
    expect(effectiveFlags({ regularRule: rule }).map((f) => f.kind)).toEqual([FlagKind.FLAG_KIND_REGULAR]);
  });
});

describe('history entries from events', () => {
  it('keys every entry by its event id', () => {
    const contact = ContactReceived.fromPartial({
      contactId: 'c1',
      conversationId: 'v1',
      channel: Channel.CHANNEL_EMAIL,
      kind: ContactKind.CONTACT_KIND_MESSAGE,
      receivedAt: now,
      subject: 'Invoice',
      text: 'Hello',
    });
    expect(entryFromContact(contact, 'cust')).toMatchObject({
      _id: 'contact:c1',
      kind: HistoryEntryKind.HISTORY_ENTRY_KIND_MESSAGE_IN,
      text: 'Hello',
      subject: 'Invoice',
      customerId: 'cust',
    });
    const event = (step: ConversationEvent['step']) =>
      ConversationEvent.fromPartial({
        eventId: 'e1',
        conversationId: 'v1',
        channel: Channel.CHANNEL_CHAT,
        occurredAt: now,
        reason: { code: 'x', text: 'longest idle' },
        step,
      } as never);
    expect(entryFromConversationEvent(event({ $case: 'assigned', assigned: { agentId: 'a1', tier: 1, waitedMs: 3 } }), 'cust')).toMatchObject({
      entry: { _id: 'event:e1', kind: HistoryEntryKind.HISTORY_ENTRY_KIND_ASSIGNED, agentId: 'a1' },
      change: { agentId: 'a1' },
    });
    expect(
      entryFromConversationEvent(event({ $case: 'replied', replied: { agentId: 'a1', outboundMessageId: 'o', text: 'Fixed', attachments: [] } }), 'cust')
        ?.entry,
    ).toMatchObject({ kind: HistoryEntryKind.HISTORY_ENTRY_KIND_MESSAGE_OUT, text: 'Fixed' });
    const file = {
      name: 'invoice.pdf',
      contentType: 'application/pdf',
      sizeBytes: 9,
      sha256: 'a'.repeat(64),
      storageRef: `email-attachment:${'a'.repeat(64)}`,
    };
    const withFile = entryFromConversationEvent(
      event({ $case: 'replied', replied: { agentId: 'a1', outboundMessageId: 'o', text: 'Attached', attachments: [file] } }),
      'cust',
    )?.entry;
    // An agent's file is listed, and opened, like a customer's.
    expect(withFile).toMatchObject({ detail: '1 attachment(s)', attachments: [file] });
    expect(
      entryFromConversationEvent(event({ $case: 'replied', replied: { agentId: 'a1', outboundMessageId: 'o', text: 'Fixed', attachments: [] } }), 'cust')
        ?.entry,
    ).not.toHaveProperty('attachments');
    expect(entryFromConversationEvent(event({ $case: 'resolved', resolved: { agentId: 'a1', disposition: 'fixed' } }), 'cust')?.change.status).toBe('resolved');
    expect(
      entryFromConversationEvent(
        event({ $case: 'surveyAnswered', surveyAnswered: { question: 'How did we do?', score: 4, comment: 'quick', agentId: '', queue: '' } }),
        'cust',
      )?.entry.detail,
    ).toBe('score 4/5: How did we do?');
    expect(entryFromConversationEvent(event({ $case: 'offered', offered: { agentId: 'a1', expiresAt: now } }), 'cust')).toBeNull();
  });
});

describe('merge planning', () => {
  it('records what moves and refuses impossible merges', () => {
    const plan = planMerge({ _id: 't' }, { _id: 's', regularOverride: null }, ['1|b@x.io', '1|a@x.io'], [{ _id: 'v2', startedAt: now }]);
    expect(plan).toMatchObject({ targetId: 't', sourceId: 's', identityKeys: ['1|a@x.io', '1|b@x.io'], conversationIds: ['v2'] });
    expect(() => planMerge({ _id: 't' }, { _id: 't' }, [], [])).toThrow(MergeRefusedError);
    expect(() => planMerge({ _id: 't', mergedInto: 'z' }, { _id: 's' }, [], [])).toThrow(/merged into z/);
    expect(() => planMerge({ _id: 't' }, { _id: 's', mergedInto: 'q' }, [], [])).toThrow(/already merged/);
  });
});

describe('authorisation matrix', () => {
  it('lets only supervisors change flags, merge and read the audit log; ops never sees contents', () => {
    for (const call of ['SetFlag', 'MergeCustomers', 'UnmergeCustomer', 'ListAudit'] as const) expect(PERMISSIONS[call]).toEqual(['supervisor']);
    for (const call of ['GetCustomer', 'GetHistory', 'GetCustomerContext'] as const)
      for (const role of ['agent', 'expert', 'supervisor', 'ops', 'service'] as const) expect(PERMISSIONS[call]).toContain(role);
    expect(seesContents('ops')).toBe(false);
    expect(seesContents('agent')).toBe(true);
  });
});

describe('configuration', () => {
  it('names each wrong variable', async () => {
    const { loadConfig, ConfigError } = await import('#libs/config');
    const { customerRecordConfig } = await import('../src/config');
    expect(() => loadConfig(customerRecordConfig, { REGULAR_MIN_CONVERSATIONS: '0', DEFAULT_PHONE_COUNTRY: 'france' })).toThrow(ConfigError);
    expect(() => loadConfig(customerRecordConfig, { REGULAR_MIN_CONVERSATIONS: '0' })).toThrow(/REGULAR_MIN_CONVERSATIONS/);
    const { testAuthEnv } = await import('#libs/testing');
    expect(loadConfig(customerRecordConfig, testAuthEnv('customer-record'))).toMatchObject({
      GRPC_PORT: 50051,
      HTTP_PORT: 8104,
      REGULAR_MIN_CONVERSATIONS: 3,
      REGULAR_WINDOW_DAYS: 90,
      CONTEXT_CACHE_TTL_MS: 2000,
    });
  });

  it('trusts public keys and holds no private key: it only verifies tokens', async () => {
    const { loadConfig } = await import('#libs/config');
    const { customerRecordConfig } = await import('../src/config');
    expect(() => loadConfig(customerRecordConfig, {})).toThrow(/AUTH_PUBLIC_KEYS_DIR: is required/);
    expect(Object.keys(customerRecordConfig)).not.toContain('AUTH_PRIVATE_KEY_FILE');
    expect(Object.keys(customerRecordConfig).filter((k) => k.startsWith('AUTH_'))).toEqual(['AUTH_PUBLIC_KEYS_DIR']);
  });
});
