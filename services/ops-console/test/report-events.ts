// Conversation and SLA events as the report fold reads them (the console's described records), for the fold's tests.
import { topics } from '#libs/kafka';
import { Channel, ConversationEvent, SlaEvent, type SlaEventKind } from '#libs/proto';
import { ReportFold } from '../src/reports';

export type Step = NonNullable<ConversationEvent['step']>;
export const T0 = Date.UTC(2026, 10, 30, 9, 0, 0);
export const MIN = 60_000;
let n = 0;

export interface Rec {
  topic: string;
  id: string;
  event: unknown;
}

export function conv(conversationId: string, at: number, step: Step, over: Partial<ConversationEvent> = {}): Rec {
  // As routing names its events: the conversation id and a sequence number.
  const eventId = `routing:${conversationId}:${++n}`;
  const event = ConversationEvent.fromPartial({ eventId, conversationId, occurredAt: new Date(at), channel: Channel.CHANNEL_SMS, step, ...over });
  return { topic: topics.conversationEvents.name, id: eventId, event: ConversationEvent.toJSON(event) };
}

export function sla(conversationId: string, at: number, kind: SlaEventKind, queue = 'tier1/general/sms'): Rec {
  const eventId = `routing:${conversationId}:sla:${++n}`;
  const event = SlaEvent.fromPartial({ eventId, conversationId, occurredAt: new Date(at), channel: Channel.CHANNEL_SMS, queue, kind, targetMs: 900_000 });
  return { topic: topics.sla.name, id: eventId, event: SlaEvent.toJSON(event) };
}

export const queued = (queue = 'tier1/general/sms'): Step => ({
  $case: 'queued',
  queued: { queue, skill: 'general', tier: 1, priority: 0, position: 1, estimatedWaitMs: 60_000, risk: 0, complexity: 0 },
});
export const assigned = (agentId: string, waitedMs: number): Step => ({ $case: 'assigned', assigned: { agentId, tier: 1, waitedMs } });
export const resolved = (agentId: string): Step => ({ $case: 'resolved', resolved: { agentId, disposition: 'done' } });

/** A conversation answered by `agent` after `waitMs`, resolved `handleMs` later, scored `score`. */
export function answeredConversation(
  id: string,
  at: number,
  agent: string,
  waitMs: number,
  handleMs: number,
  score?: number,
  over: Partial<ConversationEvent> = {},
): Rec[] {
  const out = [conv(id, at, queued(), over), conv(id, at + waitMs, assigned(agent, waitMs), over), conv(id, at + waitMs + handleMs, resolved(agent), over)];
  if (score)
    out.push(
      conv(
        id,
        at + waitMs + handleMs + MIN,
        { $case: 'surveyAnswered', surveyAnswered: { question: 'q', score, comment: '', agentId: agent, queue: '' } },
        over,
      ),
    );
  return out;
}

export function fold(records: Rec[]): ReportFold {
  const f = new ReportFold();
  for (const r of records) f.add(r);
  return f;
}

export const dayOf = (t: number) => Math.floor(t / 86_400_000) * 86_400_000;
