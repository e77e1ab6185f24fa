// The console's rules without I/O: redaction, filters, chart series, dead-letter shaping, access.
import { describe, expect, it } from 'vitest';
import { DEAD_LETTER_TOPIC, topics } from '#libs/kafka';
import { CallbackOutcome, Channel, ContactReceived, ConversationEvent, IdentityKind, OutboundMessage, SlaEvent, SlaEventKind } from '#libs/proto';
import { originAllowed } from '#libs/web';
import { consoleRole } from '../src/access';
import { loadOpsConsoleConfig } from '../src/config';
import { ChartAggregator, toQueueStat } from '../src/charts';
import { deadLetterForRole, HEX_PREVIEW_BYTES, replayPlan, ReplayError, shapeDeadLetter } from '../src/dead-letters';
import { FilterError, matchesFilter, parseFilter } from '../src/filter';
import { describeRecord, type RawRecord } from '../src/records';
import { REDACTED, redactForRole } from '../src/redact';

const raw = (topic: string, key: string, value: Buffer, headers: Record<string, string> = {}, offset = '7'): RawRecord => ({
  topic,
  partition: 1,
  offset,
  key: Buffer.from(key),
  value,
  headers,
});

const contact = ContactReceived.fromPartial({
  contactId: 'c-1',
  conversationId: 'conv-1',
  channel: Channel.CHANNEL_EMAIL,
  subject: 'My card <script>alert(1)</script>',
  text: 'Card number 4111 1111 1111 1111',
  quotedText: 'earlier mail',
  senderDisplayName: 'Ada Lovelace',
  sender: { kind: IdentityKind.IDENTITY_KIND_EMAIL, value: 'ada@example.com' },
  identityHints: [{ kind: IdentityKind.IDENTITY_KIND_PHONE, value: '+447700900123' }],
  claimedIdentities: [{ kind: IdentityKind.IDENTITY_KIND_EMAIL, value: 'claimed@example.org' }],
  attachments: [{ name: 'passport.pdf', contentType: 'application/pdf', sizeBytes: 1200 }],
  channelMetadata: { 'message-id': '<x@y>' },
  language: 'en',
});
const contactRecord = () =>
  describeRecord(
    raw(topics.contactInbound.name, 'conv-1', Buffer.from(ContactReceived.encode(contact).finish()), {
      ce_type: topics.contactInbound.type,
      ce_time: '2026-01-01T10:00:00Z',
    }),
  );
const conversationEvent = (step: ConversationEvent['step'], conversationId = 'conv-1') =>
  describeRecord(
    raw(
      topics.conversationEvents.name,
      conversationId,
      Buffer.from(
        ConversationEvent.encode(
          ConversationEvent.fromPartial({
            eventId: 'e',
            conversationId,
            channel: Channel.CHANNEL_CHAT,
            reason: { code: 'x', text: 'longest idle agent' },
            step,
          }),
        ).finish(),
      ),
    ),
  );

describe('redaction', () => {
  it('hides everything a customer wrote and who they are from ops, keeping what ops needs', () => {
    const shown = redactForRole(contactRecord(), 'ops');
    const event = shown.event as Record<string, any>;
    expect(event.subject).toBe(REDACTED);
    expect(event.text).toBe(REDACTED);
    expect(event.quotedText).toBe(REDACTED);
    expect(event.senderDisplayName).toBe(REDACTED);
    expect(event.sender).toEqual({ kind: 'IDENTITY_KIND_EMAIL', value: REDACTED });
    expect(event.identityHints[0].value).toBe(REDACTED);
    expect(event.claimedIdentities[0]).toEqual({ kind: 'IDENTITY_KIND_EMAIL', value: REDACTED });
    expect(event.attachments[0]).toMatchObject({ name: REDACTED, contentType: 'application/pdf' });
    expect(event.channelMetadata).toBe(REDACTED);
    expect(event).toMatchObject({ contactId: 'c-1', conversationId: 'conv-1', channel: 'CHANNEL_EMAIL', language: 'en' });
    const text = JSON.stringify(shown);
    for (const secret of ['4111', 'script', 'Ada', 'ada@example.com', 'claimed@example.org', '7700900123', 'passport', 'earlier mail', 'x@y'])
      expect(text).not.toContain(secret);
  });

  it('gives supervisors the contents unchanged and never changes the record it was given', () => {
    const record = contactRecord();
    expect(redactForRole(record, 'supervisor')).toEqual(record);
    redactForRole(record, 'ops');
    expect((record.event as { subject: string }).subject).toContain('<script>');
  });

  it("hides notes, replies, survey comments and the routing reason's words, keeping its code", () => {
    const cases: [ConversationEvent['step'], string, string][] = [
      [
        { $case: 'escalated', escalated: { fromAgentId: 'a1', note: 'customer is upset about X', queue: 'q', skill: 's', automatic: false } },
        'escalated',
        'note',
      ],
      [{ $case: 'transferred', transferred: { fromAgentId: 'a1', toAgentId: 'a2', toQueue: '', note: 'hand over' } }, 'transferred', 'note'],
      [{ $case: 'handedBack', handedBack: { expertAgentId: 'a3', note: 'done' } }, 'handedBack', 'note'],
      [{ $case: 'replied', replied: { agentId: 'a1', outboundMessageId: 'o', text: 'Dear Ada', attachments: [] } }, 'replied', 'text'],
      [
        { $case: 'surveyAnswered', surveyAnswered: { question: 'How did we do?', score: 2, comment: 'slow', agentId: '', queue: '' } },
        'surveyAnswered',
        'comment',
      ],
      [{ $case: 'resolved', resolved: { agentId: 'a1', disposition: 'moved to Lisbon, refund sent' } }, 'resolved', 'disposition'],
      [
        {
          $case: 'deliveryReported',
          deliveryReported: {
            outboundMessageId: 'o',
            delivered: false,
            errorCode: '550',
            detail: '550 5.1.1 <ada@example.com>: mailbox unavailable',
            permanent: true,
          },
        },
        'deliveryReported',
        'detail',
      ],
    ];
    for (const [step, name, field] of cases) {
      const event = redactForRole(conversationEvent(step), 'ops').event as Record<string, any>;
      expect(event[name][field]).toBe(REDACTED);
      expect(event.reason).toMatchObject({ code: 'x', text: REDACTED });
    }
    const survey = redactForRole(conversationEvent(cases[4]![0]), 'ops').event as Record<string, any>;
    expect(survey.surveyAnswered).toMatchObject({ score: 2, question: 'How did we do?' });
    const delivery = redactForRole(conversationEvent(cases[6]![0]), 'ops').event as Record<string, any>;
    expect(delivery.deliveryReported).toMatchObject({ outboundMessageId: 'o', errorCode: '550', permanent: true });
    const resolvedForSupervisor = redactForRole(conversationEvent(cases[5]![0]), 'supervisor').event as Record<string, any>;
    expect(resolvedForSupervisor.resolved.disposition).toBe('moved to Lisbon, refund sent');
  });

  it("hides an MMS's media addresses and phone numbers, and every text field it does not know", () => {
    const mms = ContactReceived.fromPartial({
      contactId: 'sms-SM1',
      conversationId: 'conv-2',
      channel: Channel.CHANNEL_SMS,
      receivedAt: new Date(0),
      sender: { kind: IdentityKind.IDENTITY_KIND_PHONE, value: '+447700900123' },
      recipient: { kind: IdentityKind.IDENTITY_KIND_PHONE, value: '+441134960000' },
      externalId: 'SM1',
      text: 'see photo',
      attachments: [{ name: 'media-0', contentType: 'image/jpeg', storageRef: 'https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/SM1/Media/ME1' }],
    });
    const shown = redactForRole(describeRecord(raw(topics.contactInbound.name, 'conv-2', Buffer.from(ContactReceived.encode(mms).finish()))), 'ops');
    const text = JSON.stringify(shown);
    for (const secret of ['7700900123', '1134960000', 'twilio.com', 'ME1', 'see photo']) expect(text).not.toContain(secret);
    expect(shown.event).toMatchObject({
      channel: 'CHANNEL_SMS',
      receivedAt: '1970-01-01T00:00:00.000Z',
      attachments: [{ contentType: 'image/jpeg', storageRef: REDACTED }],
    });
    // A field no schema has yet is redacted, not shown.
    expect(redactForRole({ ...shown, event: { conversationId: 'c', futureField: 'Ada', nested: { note2: 'x' } } }, 'ops').event).toEqual({
      conversationId: 'c',
      futureField: REDACTED,
      nested: { note2: REDACTED },
    });
  });

  it("withholds a dead letter's bytes from ops on the live stream when they decode into a message", () => {
    const readable = Buffer.from(ContactReceived.encode(contact).finish());
    const dead = describeRecord(raw(DEAD_LETTER_TOPIC, 'conv-1', readable, { dlq_topic: topics.contactInbound.name, dlq_reason: 'invalid' }));
    const shown = redactForRole(dead, 'ops');
    expect(shown.deadLetter!.valueBase64).toBe('');
    expect(shown.deadLetter!.reason).toBe('invalid');
    expect(JSON.stringify(shown)).not.toContain(readable.toString('base64').slice(0, 20));
    expect(redactForRole(dead, 'supervisor').deadLetter!.valueBase64).toBe(readable.toString('base64'));
    const garbage = describeRecord(raw(DEAD_LETTER_TOPIC, 'conv-1', Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f]), { dlq_topic: topics.sla.name }));
    expect(redactForRole(garbage, 'ops').deadLetter!.valueBase64).toBe('/////w8=');
  });

  it('hides outbound subjects, texts and recipients', () => {
    const value = Buffer.from(
      OutboundMessage.encode(
        OutboundMessage.fromPartial({
          messageId: 'm',
          conversationId: 'conv-1',
          subject: 'Re: card',
          text: 'Hello Ada',
          recipient: { kind: IdentityKind.IDENTITY_KIND_PHONE, value: '+447700900123' },
        }),
      ).finish(),
    );
    const event = redactForRole(describeRecord(raw(topics.outbound.name, 'conv-1', value)), 'ops').event as Record<string, any>;
    expect(event).toMatchObject({ messageId: 'm', subject: REDACTED, text: REDACTED, recipient: { value: REDACTED } });
  });
});

describe('filters', () => {
  it('parses topic, channel and conversation and refuses unknown values by name', () => {
    expect(parseFilter(new URLSearchParams('topic=cc.sla.v1&channel=email&conversation=conv-1'))).toEqual({
      topics: ['cc.sla.v1'],
      channel: 'email',
      conversationId: 'conv-1',
    });
    expect(parseFilter(new URLSearchParams(''))).toEqual({ topics: [] });
    expect(() => parseFilter(new URLSearchParams('topic=cc.nope'))).toThrow(/unknown topic cc.nope/);
    expect(() => parseFilter(new URLSearchParams('channel=fax'))).toThrow(FilterError);
    expect(() => parseFilter(new URLSearchParams('conversation=a%20b<'))).toThrow(/conversation id/);
  });

  it('matches records by topic, channel and conversation', () => {
    const email = contactRecord();
    const chat = conversationEvent({ $case: 'requeued', requeued: { previousAgentId: 'a' } }, 'conv-2');
    expect(matchesFilter(email, { topics: [] })).toBe(true);
    expect(matchesFilter(email, { topics: [topics.sla.name] })).toBe(false);
    expect(matchesFilter(email, { topics: [], channel: 'email' })).toBe(true);
    expect(matchesFilter(chat, { topics: [], channel: 'email' })).toBe(false);
    expect(matchesFilter(chat, { topics: [], conversationId: 'conv-2' })).toBe(true);
    expect(matchesFilter(email, { topics: [], conversationId: 'conv-2' })).toBe(false);
    // A dead letter belongs to the conversation of its original key.
    const dead = describeRecord(raw(DEAD_LETTER_TOPIC, 'conv-2', Buffer.from('junk'), { dlq_topic: topics.sla.name }));
    expect(matchesFilter(dead, { topics: [], conversationId: 'conv-2' })).toBe(true);
  });
});

describe('chart aggregation', () => {
  const sla = (kind: SlaEventKind) =>
    describeRecord(
      raw(topics.sla.name, 'c', Buffer.from(SlaEvent.encode(SlaEvent.fromPartial({ conversationId: 'c', kind, channel: Channel.CHANNEL_SMS })).finish())),
    );

  it('counts contacts per minute per channel, SLA breaches and dead letters in a moving window', () => {
    const charts = new ChartAggregator({ bucketMs: 60_000, buckets: 3 });
    const t0 = 10 * 60_000;
    charts.addRecord(contactRecord(), t0 + 1000);
    charts.addRecord(contactRecord(), t0 + 59_000);
    charts.addRecord(contactRecord(), t0 + 61_000);
    charts.addRecord(sla(SlaEventKind.SLA_EVENT_KIND_BREACH), t0 + 61_000);
    charts.addRecord(sla(SlaEventKind.SLA_EVENT_KIND_WARNING), t0 + 61_000);
    charts.addRecord(describeRecord(raw(DEAD_LETTER_TOPIC, 'c', Buffer.from('x'))), t0 + 62_000);
    let s = charts.snapshot(t0 + 90_000);
    expect(s.contactsPerMinute.email).toEqual([
      { t: t0 - 60_000, v: 0 },
      { t: t0, v: 2 },
      { t: t0 + 60_000, v: 1 },
    ]);
    expect(s.contactsPerMinute.chat.map((p) => p.v)).toEqual([0, 0, 0]);
    expect(s.slaBreachesPerMinute.map((p) => p.v)).toEqual([0, 0, 1]);
    expect(s.slaBreachesTotal).toBe(1);
    expect(s.deadLettersTotal).toBe(1);
    // Three minutes later the first minutes have left the window; totals stay.
    s = charts.snapshot(t0 + 4 * 60_000);
    expect(s.contactsPerMinute.email.map((p) => p.v)).toEqual([0, 0, 0]);
    expect(s.slaBreachesTotal).toBe(1);
  });

  it('pairs the wait a conversation was told with the wait it had', () => {
    const charts = new ChartAggregator({ maxWaits: 2 });
    charts.addRecord(
      conversationEvent(
        { $case: 'queued', queued: { queue: 'q', skill: '', tier: 1, priority: 0, position: 1, estimatedWaitMs: 30_000, risk: 0, complexity: 0 } },
        'a',
      ),
      1,
    );
    charts.addRecord(
      conversationEvent(
        { $case: 'queued', queued: { queue: 'q', skill: '', tier: 1, priority: 0, position: 1, estimatedWaitMs: 20_000, risk: 0, complexity: 0 } },
        'a',
      ),
      2,
    );
    charts.addRecord(conversationEvent({ $case: 'assigned', assigned: { agentId: 'x', tier: 1, waitedMs: 25_000 } }, 'a'), 3);
    // Assigned without a known estimate (console started later): nothing to compare.
    charts.addRecord(conversationEvent({ $case: 'assigned', assigned: { agentId: 'x', tier: 1, waitedMs: 5 } }, 'b'), 4);
    expect(charts.snapshot(5).waits).toEqual([{ conversationId: 'a', estimatedMs: 20_000, actualMs: 25_000, t: 3 }]);
  });

  it('measures a callback’s promise against the time the customer answered, not the agent’s accept', () => {
    const charts = new ChartAggregator();
    const progress = (outcome: CallbackOutcome, more: { promisedWaitMs?: number; waitedMs?: number }) =>
      conversationEvent({ $case: 'callbackProgress', callbackProgress: { outcome, attempt: 0, callSid: '', promisedWaitMs: 0, waitedMs: 0, ...more } }, 'cb');
    charts.addRecord(
      conversationEvent(
        { $case: 'queued', queued: { queue: 'q', skill: '', tier: 1, priority: 0, position: 1, estimatedWaitMs: 30_000, risk: 0, complexity: 0 } },
        'cb',
      ),
      1,
    );
    charts.addRecord(progress(CallbackOutcome.CALLBACK_OUTCOME_REQUESTED, { promisedWaitMs: 600_000 }), 2);
    charts.addRecord(conversationEvent({ $case: 'assigned', assigned: { agentId: 'x', tier: 1, waitedMs: 500_000 } }, 'cb'), 3);
    // The voice channel's own report carries no promise: routing's is the one measured.
    charts.addRecord(progress(CallbackOutcome.CALLBACK_OUTCOME_ANSWERED, {}), 4);
    expect(charts.snapshot(5).waits).toEqual([]);
    charts.addRecord(progress(CallbackOutcome.CALLBACK_OUTCOME_ANSWERED, { promisedWaitMs: 600_000, waitedMs: 720_000 }), 5);
    expect(charts.snapshot(6).waits).toEqual([{ conversationId: 'cb', estimatedMs: 600_000, actualMs: 720_000, t: 5 }]);
  });

  it('keeps waiting per queue over time, service level per channel against target, agents and lag', () => {
    const charts = new ChartAggregator({ bucketMs: 1000, buckets: 10, serviceLevelTarget: 0.9 });
    const q = (queue: string, channel: string, waiting: number, serviceLevel: number, agentsStaffed: number, agentsNeeded: number) =>
      toQueueStat({ queue, channel, waiting, serviceLevel, estimatedWaitMs: 0, agentsStaffed, agentsNeeded });
    charts.setQueueStats([q('billing', 'CHANNEL_EMAIL', 3, 0.5, 1, 2), q('sales', 'CHANNEL_EMAIL', 1, 1, 3, 3)], 1000);
    charts.setQueueStats([q('billing', 'CHANNEL_EMAIL', 5, 0.5, 1, 2), q('sales', 'CHANNEL_EMAIL', 0, 1, 3, 3)], 2000);
    charts.setLag(
      [
        { group: 'a', lag: 1 },
        { group: 'b', lag: 9 },
      ],
      2000,
    );
    let s = charts.snapshot(2000);
    expect(s.waitingPerQueue.billing).toEqual([
      { t: 1000, v: 3 },
      { t: 2000, v: 5 },
    ]);
    expect(s.serviceLevel.find((x) => x.channel === 'email')).toEqual({ channel: 'email', value: (0.5 * 1 + 1 * 3) / 4, target: 0.9 });
    expect(s.serviceLevel.find((x) => x.channel === 'chat')!.value).toBeNull();
    expect(s.agents).toEqual([
      { queue: 'billing', needed: 2, staffed: 1 },
      { queue: 'sales', needed: 3, staffed: 3 },
    ]);
    expect(s.lag.map((l) => l.group)).toEqual(['b', 'a']);
    // A queue routing no longer reports leaves the chart once its points are out of the window.
    charts.setQueueStats([q('sales', 'CHANNEL_EMAIL', 0, 1, 3, 3)], 20_000);
    s = charts.snapshot(20_000);
    expect(Object.keys(s.waitingPerQueue)).toEqual(['sales']);
  });
});

describe('dead letters', () => {
  const original = Buffer.from(SlaEvent.encode(SlaEvent.fromPartial({ conversationId: 'conv-9', kind: SlaEventKind.SLA_EVENT_KIND_BREACH })).finish());
  const dlqHeaders = {
    ce_id: 'ev-1',
    ce_type: topics.sla.type,
    ce_source: 's',
    dlq_reason: 'handler-failed',
    dlq_detail: 'store down',
    dlq_topic: topics.sla.name,
    dlq_partition: '2',
    dlq_offset: '41',
    dlq_consumer_group: 'routing',
    dlq_time: '2026-01-01T00:00:00Z',
    dlq_attempts: '5',
  };

  it('shows the reason, where the record came from and its bytes', () => {
    const view = shapeDeadLetter(raw(DEAD_LETTER_TOPIC, 'conv-9', original, dlqHeaders, '3'));
    expect(view).toMatchObject({
      partition: 1,
      offset: '3',
      key: 'conv-9',
      reason: 'handler-failed',
      detail: 'store down',
      consumerGroup: 'routing',
      attempts: 5,
      original: { topic: topics.sla.name, partition: 2, offset: '41' },
      ceId: 'ev-1',
      size: original.length,
      valueHex: original.toString('hex'),
      valueBase64: original.toString('base64'),
      hexTruncated: false,
    });
    expect(view.event).toMatchObject({ conversationId: 'conv-9', kind: 'SLA_EVENT_KIND_BREACH' });
    expect(view.sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('keeps garbage bytes visible to ops but never bytes that decode into contents', () => {
    const garbage = Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f]);
    const junk = deadLetterForRole(shapeDeadLetter(raw(DEAD_LETTER_TOPIC, 'k', garbage, { ...dlqHeaders, dlq_reason: 'undecodable' })), 'ops');
    expect(junk.valueHex).toBe('ffffffff0f');
    expect(junk.decodeError).toBeTruthy();
    const readable = Buffer.from(ContactReceived.encode(contact).finish());
    const headers = { ...dlqHeaders, dlq_topic: topics.contactInbound.name };
    const forOps = deadLetterForRole(shapeDeadLetter(raw(DEAD_LETTER_TOPIC, 'conv-1', readable, headers)), 'ops');
    expect(forOps.valueHex).toBeUndefined();
    expect(forOps.valueBase64).toBeUndefined();
    expect(JSON.stringify(forOps)).not.toContain('4111');
    expect((forOps.event as { subject: string }).subject).toBe(REDACTED);
    const forSupervisor = deadLetterForRole(shapeDeadLetter(raw(DEAD_LETTER_TOPIC, 'conv-1', readable, headers)), 'supervisor');
    expect(Buffer.from(forSupervisor.valueBase64!, 'base64').equals(readable)).toBe(true);
  });

  it('previews at most a bounded number of bytes in hex', () => {
    const big = Buffer.alloc(HEX_PREVIEW_BYTES + 10, 0xab);
    const view = shapeDeadLetter(raw(DEAD_LETTER_TOPIC, 'k', big, { dlq_topic: 'cc.unknown' }));
    expect(view.valueHex!.length).toBe(HEX_PREVIEW_BYTES * 2);
    expect(view.hexTruncated).toBe(true);
    expect(view.decodeError).toBe('unknown topic cc.unknown');
  });

  it('plans a replay with the original topic, key, bytes and headers, dropping the dlq_ ones', () => {
    const plan = replayPlan(raw(DEAD_LETTER_TOPIC, 'conv-9', original, dlqHeaders));
    expect(plan.topic).toBe(topics.sla.name);
    expect(plan.key).toBe('conv-9');
    expect(plan.value.equals(original)).toBe(true);
    expect(plan.headers).toEqual({ ce_id: 'ev-1', ce_type: topics.sla.type, ce_source: 's' });
  });

  it('refuses to replay what has no pipeline topic to go back to', () => {
    expect(() => replayPlan(raw(DEAD_LETTER_TOPIC, 'k', original, {}))).toThrow(/no dlq_topic/);
    expect(() => replayPlan(raw(DEAD_LETTER_TOPIC, 'k', original, { dlq_topic: DEAD_LETTER_TOPIC }))).toThrow(ReplayError);
    expect(() => replayPlan(raw(DEAD_LETTER_TOPIC, 'k', original, { dlq_topic: 'cc.other' }))).toThrow(/not a pipeline topic/);
    expect(() => replayPlan(raw(topics.sla.name, 'k', original, dlqHeaders))).toThrow(/not the dead-letter topic/);
  });
});

describe('access', () => {
  it('lets only ops and supervisors in', () => {
    expect(consoleRole('ops')).toBe('ops');
    expect(consoleRole('supervisor')).toBe('supervisor');
    for (const r of ['agent', 'expert', 'service'] as const) expect(consoleRole(r)).toBeNull();
  });

  it('needs a session key of its own, derived from nothing else', () => {
    expect(loadOpsConsoleConfig({ OPS_CONSOLE_SESSION_SECRET: 's'.repeat(32) }).sessionSecret).toBe('s'.repeat(32));
    expect(() => loadOpsConsoleConfig({})).toThrow(/OPS_CONSOLE_SESSION_SECRET: is required/);
    // The shared token secret of old is no substitute.
    expect(() => loadOpsConsoleConfig({ AUTH_JWT_SECRET: 'j'.repeat(40) })).toThrow(/OPS_CONSOLE_SESSION_SECRET: is required/);
    expect(() => loadOpsConsoleConfig({ OPS_CONSOLE_SESSION_SECRET: 'short' })).toThrow(/at least 32/);
  });

  it('accepts state changes only from the console origin', () => {
    expect(originAllowed('http://127.0.0.1:8090', '127.0.0.1:8090')).toBe(true);
    expect(originAllowed('http://evil.example', '127.0.0.1:8090')).toBe(false);
    expect(originAllowed(undefined, '127.0.0.1:8090')).toBe(false);
    expect(originAllowed('not a url', '127.0.0.1:8090')).toBe(false);
    expect(originAllowed('https://ops.example.com', 'internal:8090', 'https://ops.example.com')).toBe(true);
    expect(originAllowed('http://internal:8090', 'internal:8090', 'https://ops.example.com')).toBe(false);
  });
});
