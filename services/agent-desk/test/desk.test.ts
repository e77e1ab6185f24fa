import { readFileSync } from 'node:fs';
import { status } from '@grpc/grpc-js';
import type http from 'node:http';
import { describe, expect, it } from 'vitest';
import {
  Channel,
  ConversationOffer,
  FlagKind,
  FlagSource,
  HistoryEntryKind,
  IdentityKind,
  IntermediaryKind,
  MandateAuthority,
  Presence,
  Tier,
  type HistoryEntry,
} from '#libs/proto';
import { BackendError } from '../src/backends';
import { maskNumber } from '../src/callback-views';
import { customerRef, forms, FormError, parseForm } from '../src/forms';
import { HttpError } from '#libs/web';
import { httpFailure, sameOrigin } from '../src/http';
import { liveMessage } from '../src/live';
import { parseStaffArgs, UsageError } from '../src/staff-args';
import {
  agentRow,
  badges,
  contactItem,
  customerCard,
  followUpRow,
  formatDuration,
  historyItem,
  offerView,
  queueTable,
  secondsLeft,
  timeline,
} from '../src/views';

describe('form validation', () => {
  it('trims and lower-cases the sign-in id and names each problem', () => {
    expect(parseForm(forms.signIn, { id: ' Ana ', password: 'x' })).toEqual({ id: 'ana', password: 'x' });
    expect(() => parseForm(forms.signIn, { id: 'ana' })).toThrow(FormError);
    expect(() => parseForm(forms.signIn, { id: 'ana' })).toThrow(/password/);
    expect(() => parseForm(forms.presence, { presence: 'busy' })).toThrow('presence must be available, away or offline');
    expect(() => parseForm(forms.reply, { conversationId: 'c1', text: '   ' })).toThrow('the reply is empty');
    expect(() => parseForm(forms.reply, { conversationId: 'c1', text: 'x'.repeat(10_001) })).toThrow(/10,000/);
    expect(() => parseForm(forms.escalate, { conversationId: 'c1', note: '' })).toThrow('write a note for the expert');
    expect(() => parseForm(forms.resolve, { conversationId: '', disposition: 'solved' })).toThrow('conversationId is required');
    expect(() => parseForm(forms.reassign, { conversationId: 'c1', toAgentId: 'Bad Id!' })).toThrow(/agent id/);
  });

  it('reads whose record to show: the customer id, or the identity while routing had none', () => {
    expect(customerRef(new URLSearchParams({ customerId: 'cu-1', identityKind: '1', identity: 'x@y.test' }))).toEqual({ customerId: 'cu-1' });
    expect(customerRef(new URLSearchParams({ identityKind: '1', identity: 'x@y.test' }))).toEqual({ identity: { kind: 1, value: 'x@y.test', namespace: '' } });
    expect(() => customerRef(new URLSearchParams({ customerId: 'cu 1' }))).toThrow('customerId is not a customer id');
    expect(() => customerRef(new URLSearchParams({ identity: 'x@y.test' }))).toThrow(/identityKind/);
    expect(() => customerRef(new URLSearchParams({ identityKind: '9', identity: 'x' }))).toThrow(/identityKind/);
    expect(() => customerRef(new URLSearchParams({ identityKind: '1', identity: '' }))).toThrow('identity must be 1-320 characters');
  });

  it('takes a transfer to exactly one of an agent or a queue', () => {
    expect(parseForm(forms.transfer, { conversationId: 'c1', toQueue: 'tier1/billing/email' })).toMatchObject({
      toQueue: 'tier1/billing/email',
      toAgentId: '',
    });
    expect(() => parseForm(forms.transfer, { conversationId: 'c1' })).toThrow(/either an agent or a queue/);
    expect(() => parseForm(forms.transfer, { conversationId: 'c1', toAgentId: 'bo', toQueue: 'tier1/billing/email' })).toThrow(/not both/);
    expect(parseForm(forms.transfer, { conversationId: 'c1', toQueue: 'tier2/billing' }).toQueue).toBe('tier2/billing');
    expect(() => parseForm(forms.transfer, { conversationId: 'c1', toQueue: 'Billing Team' })).toThrow(/tier2\/billing/);
  });
});

describe('view models', () => {
  it('orders badges most important first, once each, ignoring unknown flags', () => {
    expect(badges(['regular', 'VIP', 'regular', 'gold', 'institutional']).map((b) => b.label)).toEqual(['Institutional', 'VIP', 'Regular customer']);
    expect(badges([])).toEqual([]);
  });

  it('shapes an offer with its countdown and escalation note', () => {
    const offer = offerView({
      conversationId: 'c1',
      channel: Channel.CHANNEL_EMAIL,
      customerId: 'cu1',
      customerName: '',
      badges: ['regular'],
      expiresAt: new Date(20_000),
      subject: '<script>alert(1)</script>',
      escalationNote: 'needs a refund',
      reason: { code: 'agent.escalated', text: 'Ana escalated', rule: '', targetStep: 3, eligibleAgents: 1, whyChosen: '' },
      customerIdentity: { kind: IdentityKind.IDENTITY_KIND_EMAIL, value: 'carla@x.test', namespace: '' },
    });
    expect(offer.identity).toEqual({ kind: IdentityKind.IDENTITY_KIND_EMAIL, value: 'carla@x.test', namespace: '' });
    expect(offer).toMatchObject({
      channel: 'email',
      customerName: 'Unknown customer',
      expiresAt: 20_000,
      escalated: true,
      subject: '<script>alert(1)</script>',
      badges: [{ kind: 'regular', label: 'Regular customer' }],
    });
    expect(secondsLeft(20_000, 14_500)).toBe(6);
    expect(secondsLeft(20_000, 25_000)).toBe(0);
  });

  it('marks a callback offer: the number masked, when it was asked and what was promised', () => {
    const offer = offerView(
      ConversationOffer.fromPartial({
        conversationId: 'conv-CA1',
        channel: Channel.CHANNEL_VOICE,
        callback: { number: '+447700900123', requestedAt: new Date(Date.UTC(2026, 0, 5, 9, 0)), promisedBy: new Date(Date.UTC(2026, 0, 5, 9, 6)), attempt: 1 },
      }),
    );
    expect(offer.callback).toBe('Callback to +44…123 — requested at 09:00 UTC, promised by 09:06 UTC');
    expect(JSON.stringify(offer)).not.toContain('+447700900123');
    const retry = offerView(
      ConversationOffer.fromPartial({ callback: { number: '+33612345678', requestedAt: new Date(0), promisedBy: new Date(60_000), attempt: 2 } }),
    );
    expect(retry.callback).toBe('Callback to +33…678 — requested at 00:00 UTC, promised by 00:01 UTC (attempt 2)');
    expect(offerView(ConversationOffer.fromPartial({ channel: Channel.CHANNEL_VOICE })).callback).toBe('');
    expect(maskNumber('+1234')).toBe('…');
    // A queue with a calendar: its zone, named (Paris is an hour ahead in January, New York five behind).
    const paris = { number: '+33612345678', requestedAt: new Date(Date.UTC(2026, 0, 5, 9, 0)), promisedBy: new Date(Date.UTC(2026, 0, 5, 9, 6)), attempt: 1 };
    expect(offerView(ConversationOffer.fromPartial({ callback: { ...paris, zone: 'Europe/Paris' } })).callback).toBe(
      'Callback to +33…678 — requested at 10:00 Europe/Paris, promised by 10:06 Europe/Paris',
    );
    expect(offerView(ConversationOffer.fromPartial({ callback: { ...paris, zone: 'America/New_York' } })).callback).toBe(
      'Callback to +33…678 — requested at 04:00 America/New_York, promised by 04:06 America/New_York',
    );
  });

  it('puts history and live messages in order, once each, keeping attachments', () => {
    const base = { customerId: 'cu1', conversationId: 'c1', channel: Channel.CHANNEL_EMAIL, agentId: '', subject: '', detail: '', attachments: [] };
    const first = historyItem({
      ...base,
      entryId: 'contact:m1',
      kind: HistoryEntryKind.HISTORY_ENTRY_KIND_MESSAGE_IN,
      occurredAt: new Date(1000),
      text: 'hello',
      detail: '1 attachment(s)',
    });
    const queued = historyItem({
      ...base,
      entryId: 'event:e1',
      kind: HistoryEntryKind.HISTORY_ENTRY_KIND_QUEUED,
      occurredAt: new Date(1500),
      text: '',
      detail: 'queue tier1/general/email',
    });
    const reply = historyItem({
      ...base,
      entryId: 'event:e2',
      kind: HistoryEntryKind.HISTORY_ENTRY_KIND_MESSAGE_OUT,
      occurredAt: new Date(3000),
      text: 'hi',
      agentId: 'ana',
    });
    const live = contactItem({
      contactId: 'm1',
      conversationId: 'c1',
      channel: Channel.CHANNEL_EMAIL,
      kind: 1,
      receivedAt: new Date(1000),
      sender: undefined,
      senderDisplayName: '',
      recipient: undefined,
      newConversation: true,
      conversationReference: '',
      subject: '',
      text: 'hello',
      quotedText: '',
      identityHints: [],
      claimedIdentities: [],
      language: '',
      externalId: '',
      channelMetadata: {},
      attachments: [{ name: 'invoice.pdf', contentType: 'application/pdf', sizeBytes: 2048, sha256: '', storageRef: '' }],
    });
    const items = timeline([reply, first, queued, live]);
    expect(items.map((i) => i.id)).toEqual(['contact:m1', 'event:e1', 'event:e2']);
    expect(items[0]!.attachments).toEqual([{ name: 'invoice.pdf', contentType: 'application/pdf', size: '2.0 KB', ref: '' }]);
    expect(items[1]).toMatchObject({ kind: 'event', detail: 'Queued: queue tier1/general/email' });
    expect(items[2]).toMatchObject({ kind: 'out', agentId: 'ana' });
    const withFile = historyItem({
      ...base,
      entryId: 'contact:m2',
      kind: HistoryEntryKind.HISTORY_ENTRY_KIND_MESSAGE_IN,
      occurredAt: new Date(4000),
      text: 'scan',
      attachments: [
        { name: 'scan.png', contentType: 'image/png', sizeBytes: 3 * 1024 * 1024, sha256: 'c'.repeat(64), storageRef: `chat-attachment:${'c'.repeat(64)}` },
      ],
    });
    // The page links the file by its storage reference; anything else is not linked.
    expect(withFile.attachments).toEqual([{ name: 'scan.png', contentType: 'image/png', size: '3.0 MB', ref: `chat-attachment:${'c'.repeat(64)}` }]);
    const odd = historyItem({
      ...base,
      entryId: 'contact:m3',
      kind: HistoryEntryKind.HISTORY_ENTRY_KIND_MESSAGE_IN,
      occurredAt: new Date(5000),
      text: '',
      attachments: [{ name: 'x', contentType: '', sizeBytes: 1, sha256: '', storageRef: 'javascript:alert(1)' }],
    });
    expect(odd.attachments[0]!.ref).toBe('');
  });

  it("shows a call's recording as an event: the link for those who see contents, that there is one otherwise", () => {
    const entry = {
      entryId: 'event:rec1',
      customerId: 'cu1',
      conversationId: 'conv-CA1',
      channel: Channel.CHANNEL_VOICE,
      kind: HistoryEntryKind.HISTORY_ENTRY_KIND_OTHER,
      occurredAt: new Date(5000),
      agentId: '',
      subject: '',
      detail: 'call recorded (37 s)',
      attachments: [],
    };
    const url = 'https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/RE1';
    expect(historyItem({ ...entry, text: `Call recording (37 s, RE1): ${url}` })).toMatchObject({ kind: 'event', text: `Call recording (37 s, RE1): ${url}` });
    expect(historyItem({ ...entry, text: '' })).toMatchObject({ kind: 'event', text: '', detail: 'call recorded (37 s)' });
  });

  it('builds the customer card with flags, reasons, account and recent conversations', () => {
    const card = customerCard({
      customer: {
        customerId: 'cu1',
        displayName: 'Carla Diaz',
        accountId: 'acc1',
        mergedInto: '',
        createdAt: undefined,
        claimedIdentities: [],
        representatives: [
          {
            intermediaryId: 'im1',
            name: '<b>Sunway</b> Travel',
            kind: IntermediaryKind.INTERMEDIARY_KIND_AGENCY,
            authority: MandateAuthority.MANDATE_AUTHORITY_ACT,
            expiresAt: new Date('2030-01-31T00:00:00Z'),
          },
        ],
        identities: [
          { kind: IdentityKind.IDENTITY_KIND_EMAIL, value: 'carla@x.test', namespace: '' },
          { kind: IdentityKind.IDENTITY_KIND_OTHER, value: '42', namespace: 'crm' },
        ],
        flags: [
          {
            kind: FlagKind.FLAG_KIND_REGULAR,
            on: true,
            reason: '3 conversations in the last 90 days',
            source: FlagSource.FLAG_SOURCE_RULE,
            setBy: '',
            setAt: undefined,
          },
          { kind: FlagKind.FLAG_KIND_VIP, on: false, reason: '', source: FlagSource.FLAG_SOURCE_ACCOUNT, setBy: '', setAt: undefined },
        ],
      },
      account: { accountId: 'acc1', name: 'Acme', managerAgentId: 'max', vip: false, institutional: true, memberCustomerIds: [] },
      recentConversations: [
        {
          conversationId: 'c0',
          channel: Channel.CHANNEL_SMS,
          subject: 'Wrong size',
          startedAt: new Date(5),
          lastActivityAt: undefined,
          status: 'resolved',
          lastAgentId: 'ana',
          messageCount: 2,
        },
      ],
      conversationsLast90Days: 3,
    })!;
    expect(card.identities).toEqual([
      { kind: 'email', value: 'carla@x.test', verified: true, label: 'email: carla@x.test (verified)' },
      { kind: 'other', value: 'crm/42', verified: true, label: 'other: crm/42 (verified)' },
    ]);
    expect(card.claims).toEqual([]);
    expect(card.nameNote).toBe('');
    expect(card.flags[0]).toEqual({ kind: 'regular', label: 'Regular customer', on: true, reason: '3 conversations in the last 90 days', source: 'rule' });
    expect(card.badges.map((b) => b.kind)).toEqual(['institutional', 'regular']);
    expect(card.account).toMatchObject({ name: 'Acme', managerAgentId: 'max' });
    // The page sets it as text: the markup in a name stays text.
    expect(card.representatives).toEqual([{ intermediaryId: 'im1', label: '<b>Sunway</b> Travel (agency) · may change bookings · until 2030-01-31' }]);
    expect(card.recent[0]).toMatchObject({ channel: 'sms', subject: 'Wrong size', status: 'resolved', startedAt: 5 });
    expect(customerCard({ customer: undefined, account: undefined, recentConversations: [], conversationsLast90Days: 0 })).toBeNull();
  });

  it('shows what a chat visitor only typed as "says they are … (not verified)", as text, beside their own identity', () => {
    const card = customerCard({
      customer: {
        customerId: 'cu2',
        displayName: 'Vera',
        accountId: '',
        mergedInto: '',
        createdAt: undefined,
        flags: [],
        identities: [{ kind: IdentityKind.IDENTITY_KIND_CHAT_VISITOR, value: 'v_1', namespace: '' }],
        representatives: [],
        claimedIdentities: [
          { kind: IdentityKind.IDENTITY_KIND_EMAIL, value: 'vera@x.test', namespace: '' },
          { kind: IdentityKind.IDENTITY_KIND_PHONE, value: '<img src=x onerror=alert(1)>\u0007', namespace: '' },
        ],
      },
      account: undefined,
      recentConversations: [],
      conversationsLast90Days: 1,
    })!;
    expect(card.identities.map((i) => i.label)).toEqual(['chat visitor: v_1 (verified)']);
    // Nothing but the chat vouches for the name either.
    expect(card.nameNote).toBe('name as typed in the chat (not verified)');
    expect(card.claims).toEqual([
      { kind: 'email', value: 'vera@x.test', verified: false, label: 'says they are vera@x.test (not verified)' },
      { kind: 'phone', value: '<img src=x onerror=alert(1)>\u0007', verified: false, label: 'says they are <img src=x onerror=alert(1)> (not verified)' },
    ]);
    // The page puts the label in as text (textContent), so the markup is shown, never parsed.
    const app = readFileSync(new URL('../public/app.js', import.meta.url), 'utf8');
    expect(app).toContain("el('li', { class: 'claim', text: c.label })");
    expect(app).toMatch(/function el\([^)]*\)[\s\S]{0,400}textContent/);
  });

  it('shapes agents and queues for the supervisor, busiest queue first', () => {
    const agent = agentRow({
      agentId: 'ana',
      name: 'Ana',
      tier: Tier.TIER_EXPERT,
      skills: [{ name: 'billing', level: 3 }],
      languages: ['en'],
      presence: Presence.PRESENCE_AVAILABLE,
      load: [
        { channel: Channel.CHANNEL_EMAIL, active: 2, capacity: 5 },
        { channel: Channel.CHANNEL_CHAT, active: 1, capacity: 3 },
      ],
      totalCapacity: 8,
      updatedAt: undefined,
      wrapUpUntil: undefined,
      idleSince: undefined,
    });
    expect(agent).toMatchObject({ tier: 2, presence: 'available', active: 3, capacity: 8, skills: ['billing:3'] });
    const q = (queue: string, waiting: number) => ({
      queue,
      channel: Channel.CHANNEL_EMAIL,
      tier: Tier.TIER_FRONT_OFFICE,
      waiting,
      oldestWaitMs: 95_000,
      serviceLevel: 0.8,
      estimatedWaitMs: 4_000_000,
      agentsStaffed: 1,
      agentsNeeded: 2,
      arrivalsPerMinute: 0,
      averageHandleMs: 0,
      ewtMeanAbsoluteErrorMs: 0,
    });
    const rows = queueTable([q('tier1/a/email', 1), q('tier1/b/email', 4)]);
    expect(rows.map((r) => r.queue)).toEqual(['tier1/b/email', 'tier1/a/email']);
    expect(rows[0]).toMatchObject({ oldestWait: '2 min', serviceLevel: 80, estimatedWait: '1 h 7 min' });
    expect(formatDuration(45_400)).toBe('45 s');
  });

  it('lists a low survey score with its conversation, channel, queue, agent and time', () => {
    const answeredAt = new Date('2026-03-01T10:00:00Z');
    expect(
      followUpRow({
        conversationId: 'conv-1',
        channel: Channel.CHANNEL_SMS,
        queue: 'tier1/billing/sms',
        agentId: 'ana',
        score: 2,
        answeredAt,
        reference: 'AB12CD',
      }),
    ).toEqual({
      conversationId: 'conv-1',
      reference: 'AB12CD',
      channel: 'sms',
      queue: 'tier1/billing/sms',
      agentId: 'ana',
      score: 2,
      answeredAt: '2026-03-01T10:00:00.000Z',
    });
  });

  it('turns routing stream updates into page messages', () => {
    expect(
      liveMessage({
        update: {
          $case: 'revoked',
          revoked: { conversationId: 'c1', reason: { code: 'x', text: 'moved to bo', rule: '', targetStep: 0, eligibleAgents: 0, whyChosen: '' } },
        },
      }),
    ).toEqual({ type: 'revoked', conversationId: 'c1', reason: 'moved to bo' });
    // An application's note: the same item as its history entry, so the timeline keeps it once.
    const noted = liveMessage({
      update: {
        $case: 'noted',
        noted: {
          conversationId: 'c1',
          eventId: 'routing:c1:7',
          addedAt: new Date(1000),
          note: { author: 'api:crm', text: '<b>refund</b> sent' },
          channel: Channel.CHANNEL_SMS,
        },
      },
    });
    expect(noted).toEqual({
      type: 'message',
      conversationId: 'c1',
      item: expect.objectContaining({
        id: 'event:routing:c1:7',
        kind: 'event',
        channel: 'sms',
        text: '<b>refund</b> sent',
        detail: 'internal note',
        agentId: 'api:crm',
      }),
    });
    expect(liveMessage({ update: undefined })).toBeNull();
  });
});

describe('HTTP edge', () => {
  const req = (headers: Record<string, string>) => ({ headers }) as unknown as http.IncomingMessage;
  it('accepts only requests whose Origin names the host they were sent to', () => {
    expect(sameOrigin(req({ origin: 'http://desk.test:8080', host: 'desk.test:8080' }))).toBe(true);
    expect(sameOrigin(req({ origin: 'http://evil.test', host: 'desk.test:8080' }))).toBe(false);
    expect(sameOrigin(req({ host: 'desk.test:8080' }))).toBe(false);
    expect(sameOrigin(req({ origin: 'null', host: 'desk.test:8080' }))).toBe(false);
  });

  it('answers failures with a status and words, never internals', () => {
    expect(httpFailure(new FormError('the reply is empty'))).toMatchObject({ code: 400, message: 'the reply is empty' });
    expect(httpFailure(new HttpError(429, 'slow down', { 'retry-after': '60' }))).toEqual({
      code: 429,
      message: 'slow down',
      headers: { 'retry-after': '60' },
    });
    expect(httpFailure(new BackendError('routing', status.FAILED_PRECONDITION, 'not offered to you'))).toMatchObject({
      code: 409,
      message: 'not offered to you',
    });
    expect(httpFailure(new BackendError('routing', status.UNAVAILABLE, 'connect ECONNREFUSED 10.0.0.1'))).toMatchObject({
      code: 503,
      message: 'routing is not answering; try again',
    });
    expect(httpFailure(new Error('secret detail'))).toMatchObject({ code: 500, message: 'the desk could not complete this; it is logged' });
  });
});

describe('staff command arguments', () => {
  it('reads an agent with skills, languages and capacity', () => {
    expect(
      parseStaffArgs([
        'add',
        '--id',
        'ana',
        '--name',
        'Ana Lopez',
        '--role',
        'agent',
        '--tier',
        '1',
        '--skills',
        'billing:3,general:2',
        '--languages',
        'en,FR',
        '--capacity',
        'voice=1,chat=3,sms=5,email=5,total=8',
      ]),
    ).toEqual({
      command: 'add',
      member: {
        id: 'ana',
        name: 'Ana Lopez',
        role: 'agent',
        tier: 1,
        skills: { billing: 3, general: 2 },
        languages: ['en', 'fr'],
        capacity: { voice: 1, chat: 3, sms: 5, email: 5, total: 8 },
      },
    });
    expect(parseStaffArgs(['add', '--id', 'max', '--name', 'Max', '--role', 'expert'])).toMatchObject({ member: { tier: 2 } });
    expect(parseStaffArgs(['list'])).toEqual({ command: 'list' });
    expect(parseStaffArgs(['disable', 'Ana'])).toEqual({ command: 'disable', id: 'ana' });
    expect(parseStaffArgs(['enable', 'ana'])).toEqual({ command: 'enable', id: 'ana' });
    expect(parseStaffArgs(['remove', 'ana'])).toEqual({ command: 'remove', id: 'ana' });
  });

  it('takes exactly one staff id to disable, enable or remove', () => {
    expect(() => parseStaffArgs(['disable'])).toThrow('disable needs a staff id');
    expect(() => parseStaffArgs(['remove', '--id', 'ana'])).toThrow('remove needs a staff id');
    expect(() => parseStaffArgs(['enable', 'ana', 'bo'])).toThrow('enable takes one staff id');
  });

  it('says what is wrong with bad arguments', () => {
    expect(() => parseStaffArgs([])).toThrow(UsageError);
    expect(() => parseStaffArgs(['add', '--id', 'ana', '--name', 'Ana'])).toThrow('--role is required');
    expect(() => parseStaffArgs(['add', '--id', 'ana', '--name', 'Ana', '--role', 'agent', '--skills', 'billing'])).toThrow(/skill:level/);
    expect(() => parseStaffArgs(['add', '--id', 'ana', '--name', 'Ana', '--role', 'agent', '--capacity', 'fax=2'])).toThrow(/unknown channel "fax"/);
    expect(() => parseStaffArgs(['add', '--id', 'ana', '--name', 'Ana', '--role', 'agent', '--tier', '3'])).toThrow('--tier must be 1 or 2');
    expect(() => parseStaffArgs(['add', '--id', 'ana', '--colour', 'red'])).toThrow('unknown option "--colour"');
    expect(() => parseStaffArgs(['add', '--id'])).toThrow('--id needs a value');
  });
});

describe('contacts made on behalf in the history', () => {
  const entry = (onBehalf: HistoryEntry['onBehalf']) =>
    historyItem({
      entryId: 'contact:1',
      customerId: 'cu1',
      conversationId: 'cv1',
      channel: Channel.CHANNEL_EMAIL,
      kind: HistoryEntryKind.HISTORY_ENTRY_KIND_MESSAGE_IN,
      occurredAt: new Date(1),
      agentId: '',
      subject: '',
      text: 'Move it to Friday',
      detail: '',
      attachments: [],
      onBehalf,
    });

  it('says who made it and with what authority, or that someone only said so', () => {
    expect(entry(undefined).onBehalf).toBe('');
    const made = { intermediaryId: 'im1', intermediaryName: 'Sunway', kind: IntermediaryKind.INTERMEDIARY_KIND_AGENCY, claimedFor: undefined, problem: '' };
    expect(entry({ ...made, authority: MandateAuthority.MANDATE_AUTHORITY_INFORM, verified: true }).onBehalf).toBe(
      'Made by Sunway (agency) for the customer · authority: may give and get information',
    );
    expect(
      entry({
        ...made,
        authority: MandateAuthority.MANDATE_AUTHORITY_UNSPECIFIED,
        verified: false,
        claimedFor: { kind: IdentityKind.IDENTITY_KIND_EMAIL, value: 'lee@example.org', namespace: '' },
        problem: 'no mandate for the customer named',
      }).onBehalf,
    ).toBe('Sunway (agency) says they act for lee@example.org (not verified: no mandate for the customer named)');
  });
});
