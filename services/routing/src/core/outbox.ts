// What a call produced: the effects to publish and deliver, in the order they happened, and
// the ids of the records it changed (to be written before anything is published).
//
// Messages are built as the generated fromPartial would build them (every field set), written
// out: this runs several times per decision. Unlike fromPartial, messages of one call share
// what none of them changes: the Reason they were given, and one Date per instant (a decision
// stamps all its events with the same clock reading).
import type {
  AgentState,
  ConversationEvent,
  Identity,
  OutboundKind,
  OutboundMessage,
  Reason,
  SlaEvent,
  SlaEventKind,
  WatchAssignmentsResponse,
} from '#libs/proto';
import { CHANNEL_ENUM, eventId } from '#libs/contact';
import type { Clock, ConversationRecord, Effect, StateChanges } from './records';

export type ConversationStep = NonNullable<ConversationEvent['step']>;

export class Outbox {
  private effects: Effect[] = [];
  private readonly changedConversations = new Set<string>();
  private readonly changedAgents = new Set<string>();
  private readonly changedCustomers = new Set<string>();
  private changedCalendars = false;
  /** The two instants last asked for as Dates (a decision's own time, and the deadline it sets). */
  private instants = [Number.NaN, Number.NaN];
  private dates = [new Date(0), new Date(0)];
  private older = 0;

  /**
   * `scope` names the routing deployment (its consumer group) in the ids of messages: instances
   * of one deployment (active, standbys) give one decision the same id, while another deployment
   * reading the same contacts (a second centre on the broker, a test's own routing) cannot take
   * this one's message ids. Empty for the default deployment, whose ids stay as they were.
   */
  constructor(
    private readonly clock: Clock,
    private readonly scope = '',
  ) {}

  /** The instant as a Date, the same object while the instant is one of the last two asked for; never to be changed by whoever gets it. */
  dateAt(ms: number): Date {
    if (ms === this.instants[0]) return this.dates[0]!;
    if (ms === this.instants[1]) return this.dates[1]!;
    const i = this.older;
    this.older = 1 - i;
    this.instants[i] = ms;
    return (this.dates[i] = new Date(ms));
  }

  /** The effects so far; the outbox starts empty again. */
  drain(): Effect[] {
    const out = this.effects;
    this.effects = [];
    return out;
  }

  conversationChanged(id: string): void {
    this.changedConversations.add(id);
  }

  agentChanged(id: string, state: AgentState): void {
    this.changedAgents.add(id);
    this.effects.push({ type: 'agent_state', state });
  }

  customerChanged(key: string): void {
    this.changedCustomers.add(key);
  }

  calendarsChanged(): void {
    this.changedCalendars = true;
  }

  hasChanges(): boolean {
    return this.changedConversations.size > 0 || this.changedAgents.size > 0 || this.changedCustomers.size > 0 || this.changedCalendars;
  }

  takeChanges(): StateChanges {
    const changes: StateChanges = { conversations: [...this.changedConversations], agents: [...this.changedAgents], customers: [...this.changedCustomers] };
    if (this.changedCalendars) changes.calendars = true;
    this.changedCalendars = false;
    this.changedConversations.clear();
    this.changedAgents.clear();
    this.changedCustomers.clear();
    return changes;
  }

  returnChanges(changes: StateChanges): void {
    for (const id of changes.conversations) this.changedConversations.add(id);
    for (const id of changes.agents) this.changedAgents.add(id);
    for (const id of changes.customers) this.changedCustomers.add(id);
    if (changes.calendars) this.changedCalendars = true;
  }

  /** A step in the conversation's history, numbered by its own sequence; returns the event's id. */
  event(conv: ConversationRecord, reason: Reason, step: ConversationStep): string {
    this.changedConversations.add(conv.id);
    const event: ConversationEvent = {
      eventId: eventId('routing', conv.id, ++conv.seq),
      conversationId: conv.id,
      occurredAt: this.dateAt(this.clock.now()),
      channel: CHANNEL_ENUM[conv.channel],
      customerId: conv.customerId ?? '',
      reason,
      step,
    };
    this.effects.push({ type: 'conversation', event });
    return event.eventId;
  }

  /** A message to the customer on the conversation's channel. */
  outbound(
    conv: ConversationRecord,
    kind: OutboundKind,
    text: string,
    agentId: string,
    subject = '',
    position = 0,
    estimatedWaitMs = 0,
    opening: { closedUntil: number; hours: string } = { closedUntil: 0, hours: '' },
  ): OutboundMessage {
    const message: OutboundMessage = {
      // Derived from the conversation's event sequence: the same decision always yields the same id,
      // so a decision published again after a crash is de-duplicated downstream.
      messageId: this.scope ? eventId('routing', conv.id, 'out', conv.seq, kind, this.scope) : eventId('routing', conv.id, 'out', conv.seq, kind),
      conversationId: conv.id,
      channel: CHANNEL_ENUM[conv.channel],
      kind,
      recipient: conv.recipient ? copyIdentity(conv.recipient) : undefined,
      subject,
      text,
      agentId,
      createdAt: this.dateAt(this.clock.now()),
      queuePosition: position,
      estimatedWaitMs,
      conversationReference: conv.reference ?? '',
      channelMetadata: copyStrings(conv.channelMetadata),
      closedUntil: opening.closedUntil ? new Date(opening.closedUntil) : undefined,
      hours: opening.hours,
      queue: conv.queue,
      attachments: [],
    };
    this.effects.push({ type: 'outbound', message });
    return message;
  }

  sla(conv: ConversationRecord, kind: SlaEventKind, targetMs: number, elapsedMs: number): void {
    this.changedConversations.add(conv.id);
    const event: SlaEvent = {
      eventId: eventId('routing', conv.id, 'sla', kind),
      conversationId: conv.id,
      channel: CHANNEL_ENUM[conv.channel],
      queue: conv.queue ?? '',
      kind,
      targetMs,
      elapsedMs,
      occurredAt: this.dateAt(this.clock.now()),
      risk: conv.classification.risk ?? 0,
    };
    this.effects.push({ type: 'sla', event });
  }

  /** An update on one agent's assignment stream. */
  notify(agentId: string, update: WatchAssignmentsResponse['update']): void {
    this.effects.push({ type: 'notify', agentId, update: { update } });
  }

  /** Tells an agent that a conversation offered to or held by them was taken away. */
  revoked(agentId: string, conversationId: string, reason: Reason): void {
    this.notify(agentId, { $case: 'revoked', revoked: { conversationId, reason } });
  }
}

function copyIdentity(i: Identity): Identity {
  return { kind: i.kind ?? 0, value: i.value ?? '', namespace: i.namespace ?? '' };
}

function copyStrings(map: Record<string, string> | undefined): Record<string, string> {
  const copy: Record<string, string> = {};
  if (!map) return copy;
  for (const key of Object.keys(map)) {
    const value = map[key];
    if (value !== undefined) copy[key] = String(value);
  }
  return copy;
}
