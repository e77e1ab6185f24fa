// What an integrator is told, from the records on the topics: which webhook event each record is
// (most are none), and its JSON. No I/O. Only ids and the contact centre's own facts are sent,
// never what a customer wrote; the one exception is message.sent, the replies to the API
// channel's own conversations, which go to the application that submitted them and nobody else.
import { channelName } from '#libs/contact';
import type { ConsumedEvent } from '#libs/kafka';
import {
  OutboundKind,
  SlaEventKind,
  Tier,
  type Channel,
  type ConversationEvent,
  type CustomerMerged,
  type OutboundMessage,
  type SlaEvent,
  Channel as Channels,
} from '#libs/proto';

export const EVENT_TYPES = [
  'conversation.opened',
  'conversation.assigned',
  'conversation.escalated',
  'conversation.resolved',
  'survey.answered',
  'sla.breached',
  'customer.merged',
  'message.sent',
  'customer.erased',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** One event as every subscriber to its type receives it (`data` differs by type). */
export interface WebhookEvent {
  /** The record's ce_id: one event, whichever subscription receives it. */
  id: string;
  type: EventType;
  occurredAt: Date;
  data: Record<string, unknown>;
  /** Set when only this application may receive it (message.sent). */
  application?: string;
}

/**
 * Routing queues a conversation for the first time (or again, after it was resolved) with one of
 * these reasons; later queueing (escalation, transfer, a declined offer) has others.
 */
const OPENING_REASONS = new Set(['conversation.new', 'conversation.reopened', 'rule.high_risk', 'rule.complexity', 'rule.repeat_contact']);

const tierName = (t: Tier) => (t === Tier.TIER_EXPERT ? 'expert' : 'front-office');
const channelOf = (c: Channel) => channelName(c) ?? 'unknown';

function fromConversation(e: ConversationEvent): Pick<WebhookEvent, 'type' | 'data'> | undefined {
  const base = { conversationId: e.conversationId, channel: channelOf(e.channel), customerId: e.customerId || null };
  const step = e.step;
  switch (step?.$case) {
    case 'queued':
      if (!OPENING_REASONS.has(e.reason?.code ?? '')) return undefined;
      return {
        type: 'conversation.opened',
        data: { ...base, reopened: e.reason?.code === 'conversation.reopened', queue: step.queued.queue, tier: tierName(step.queued.tier) },
      };
    case 'assigned':
      return {
        type: 'conversation.assigned',
        data: { ...base, agentId: step.assigned.agentId, tier: tierName(step.assigned.tier), waitedMs: step.assigned.waitedMs },
      };
    case 'escalated':
      return {
        type: 'conversation.escalated',
        data: {
          ...base,
          fromAgentId: step.escalated.fromAgentId || null,
          queue: step.escalated.queue,
          skill: step.escalated.skill,
          automatic: step.escalated.automatic,
        },
      };
    case 'resolved':
      return { type: 'conversation.resolved', data: { ...base, agentId: step.resolved.agentId || null, disposition: step.resolved.disposition } };
    case 'surveyAnswered':
      // The customer's comment is their own words: left out, as the API leaves out message texts.
      return { type: 'survey.answered', data: { ...base, question: step.surveyAnswered.question, score: step.surveyAnswered.score } };
    default:
      return undefined;
  }
}

/** What the API channel's applications are sent of the messages to their customers (no typing, no calls, no codes). */
const SENT_KINDS: Partial<Record<OutboundKind, string>> = {
  [OutboundKind.OUTBOUND_KIND_REPLY]: 'reply',
  [OutboundKind.OUTBOUND_KIND_ACKNOWLEDGEMENT]: 'acknowledgement',
  [OutboundKind.OUTBOUND_KIND_STATUS_UPDATE]: 'status-update',
  [OutboundKind.OUTBOUND_KIND_AGENT_JOINED]: 'agent-joined',
  [OutboundKind.OUTBOUND_KIND_CONVERSATION_ENDED]: 'conversation-ended',
  [OutboundKind.OUTBOUND_KIND_SURVEY]: 'survey',
};

/** The application an API conversation's customer belongs to: the sender namespace `api.<application>`. */
const API_NAMESPACE = /^api\.(.+)$/;

function fromOutbound(m: OutboundMessage): Pick<WebhookEvent, 'type' | 'data' | 'application'> | undefined {
  if (m.channel !== Channels.CHANNEL_API) return undefined;
  const kind = SENT_KINDS[m.kind];
  const application = API_NAMESPACE.exec(m.recipient?.namespace ?? '')?.[1];
  if (!kind || !application) return undefined;
  return {
    type: 'message.sent',
    application,
    data: {
      messageId: m.messageId,
      conversationId: m.conversationId,
      conversationReference: m.conversationReference || null,
      customer: { id: m.recipient!.value },
      kind,
      subject: m.subject || null,
      text: m.text,
      agentId: m.agentId || null,
      queuePosition: m.queuePosition || null,
      estimatedWaitMs: m.estimatedWaitMs || null,
    },
  };
}

function fromSla(s: SlaEvent): Pick<WebhookEvent, 'type' | 'data'> | undefined {
  if (s.kind !== SlaEventKind.SLA_EVENT_KIND_BREACH) return undefined;
  return {
    type: 'sla.breached',
    data: { conversationId: s.conversationId, channel: channelOf(s.channel), queue: s.queue, targetMs: s.targetMs, elapsedMs: s.elapsedMs },
  };
}

function fromMerge(m: CustomerMerged): Pick<WebhookEvent, 'type' | 'data'> {
  return {
    type: 'customer.merged',
    data: { mergeId: m.mergeId, targetCustomerId: m.targetCustomerId, sourceCustomerId: m.sourceCustomerId, cause: m.cause },
  };
}

type Mapper<T> = (value: T) => Pick<WebhookEvent, 'type' | 'data' | 'application'> | undefined;

/** The webhook event a consumed record is, if any; its id is the record's ce_id, its time the event's own. */
function eventOf<T>(map: Mapper<T>, occurredAt: (value: T) => Date | undefined) {
  return (record: ConsumedEvent<T>): WebhookEvent | undefined => {
    const mapped = map(record.value);
    if (!mapped) return undefined;
    return { id: record.event.id, occurredAt: occurredAt(record.value) ?? validDate(record.event.time) ?? new Date(), ...mapped };
  };
}

function validDate(text: string): Date | undefined {
  const at = new Date(text);
  return Number.isNaN(at.getTime()) ? undefined : at;
}

export const conversationEventOf = eventOf<ConversationEvent>(fromConversation, (e) => e.occurredAt);
export const outboundEventOf = eventOf<OutboundMessage>(fromOutbound, (m) => m.createdAt);
export const slaEventOf = eventOf<SlaEvent>(fromSla, (s) => s.occurredAt);
export const mergeEventOf = eventOf<CustomerMerged>(fromMerge, (m) => m.mergedAt);

/** The body a subscriber receives: the same bytes on every attempt, so the signature covers exactly what was recorded. */
export function payloadOf(event: WebhookEvent): string {
  return JSON.stringify({ id: event.id, type: event.type, occurredAt: event.occurredAt.toISOString(), data: event.data });
}
