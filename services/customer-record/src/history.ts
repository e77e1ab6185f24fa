// How events become history entries. Each entry's id is the event's own id, so writing it
// with an upsert makes a replay a no-op.
import { Channel, ContactKind, HistoryEntryKind, type Attachment, type ContactReceived, type ConversationEvent } from '#libs/proto';

export interface HistoryRecord {
  _id: string;
  /** Empty while the conversation's customer is not known yet. */
  customerId: string;
  conversationId: string;
  channel: Channel;
  kind: HistoryEntryKind;
  occurredAt: Date;
  agentId: string;
  subject: string;
  text: string;
  detail: string;
  /** Inbound messages only; absent when there were none (the store drops empty arrays on insert). */
  attachments?: Attachment[];
}

/** What an entry does to the conversation summary. */
export interface ConversationChange {
  status?: 'open' | 'resolved' | 'abandoned';
  agentId?: string;
  countsAsMessage: boolean;
}

const MAX_TEXT = 20_000;

export function entryFromContact(c: ContactReceived, customerId: string): HistoryRecord {
  const automated = c.kind === ContactKind.CONTACT_KIND_AUTOMATED;
  return {
    _id: `contact:${c.contactId}`,
    customerId,
    conversationId: c.conversationId,
    channel: c.channel,
    kind: automated ? HistoryEntryKind.HISTORY_ENTRY_KIND_OTHER : HistoryEntryKind.HISTORY_ENTRY_KIND_MESSAGE_IN,
    occurredAt: c.receivedAt ?? new Date(0),
    agentId: '',
    subject: c.subject.slice(0, 500),
    text: c.text.slice(0, MAX_TEXT),
    detail: automated
      ? 'automated message (auto-reply, bounce or list mail)'
      : c.kind === ContactKind.CONTACT_KIND_CALL
        ? 'call'
        : c.kind === ContactKind.CONTACT_KIND_CALLBACK_REQUEST
          ? 'callback requested'
          : c.attachments.length
            ? `${c.attachments.length} attachment(s)`
            : '',
    ...(c.attachments.length
      ? {
          attachments: c.attachments.slice(0, 50).map((a) => ({
            name: a.name.slice(0, 255),
            contentType: a.contentType.slice(0, 255),
            sizeBytes: a.sizeBytes,
            sha256: a.sha256,
            storageRef: a.storageRef,
          })),
        }
      : {}),
  };
}

/** Returns null for steps that are not part of the customer's story (offers to agents, delivery receipts). */
export function entryFromConversationEvent(e: ConversationEvent, customerId: string): { entry: HistoryRecord; change: ConversationChange } | null {
  const base = {
    _id: `event:${e.eventId}`,
    customerId,
    conversationId: e.conversationId,
    channel: e.channel,
    occurredAt: e.occurredAt ?? new Date(0),
    subject: '',
    text: '',
  };
  const why = e.reason?.text ?? '';
  const step = e.step;
  if (!step) return null;
  const K = HistoryEntryKind;
  switch (step.$case) {
    case 'queued':
      return {
        entry: { ...base, kind: K.HISTORY_ENTRY_KIND_QUEUED, agentId: '', detail: join(`queue ${step.queued.queue}`, why) },
        change: { countsAsMessage: false },
      };
    case 'assigned':
      return {
        entry: { ...base, kind: K.HISTORY_ENTRY_KIND_ASSIGNED, agentId: step.assigned.agentId, detail: why },
        change: { agentId: step.assigned.agentId, countsAsMessage: false },
      };
    case 'escalated':
      return {
        entry: {
          ...base,
          kind: K.HISTORY_ENTRY_KIND_ESCALATED,
          agentId: step.escalated.fromAgentId,
          detail: join(step.escalated.automatic ? 'escalated by rule' : 'escalated by agent', `to ${step.escalated.queue}`, why),
        },
        change: { countsAsMessage: false },
      };
    case 'transferred':
      return {
        entry: {
          ...base,
          kind: K.HISTORY_ENTRY_KIND_TRANSFERRED,
          agentId: step.transferred.toAgentId,
          detail: join(`from ${step.transferred.fromAgentId}`, why),
        },
        change: step.transferred.toAgentId ? { agentId: step.transferred.toAgentId, countsAsMessage: false } : { countsAsMessage: false },
      };
    case 'replied':
      return {
        entry: { ...base, kind: K.HISTORY_ENTRY_KIND_MESSAGE_OUT, agentId: step.replied.agentId, text: step.replied.text.slice(0, MAX_TEXT), detail: '' },
        change: { agentId: step.replied.agentId, countsAsMessage: true },
      };
    case 'resolved':
      return {
        entry: { ...base, kind: K.HISTORY_ENTRY_KIND_RESOLVED, agentId: step.resolved.agentId, detail: join(step.resolved.disposition, why) },
        change: { status: 'resolved', countsAsMessage: false },
      };
    case 'abandoned':
      return {
        entry: { ...base, kind: K.HISTORY_ENTRY_KIND_ABANDONED, agentId: '', detail: `after waiting ${Math.round(step.abandoned.waitedMs / 1000)} s` },
        change: { status: 'abandoned', countsAsMessage: false },
      };
    case 'surveyAnswered':
      return {
        entry: {
          ...base,
          kind: K.HISTORY_ENTRY_KIND_SURVEY_ANSWERED,
          agentId: '',
          text: step.surveyAnswered.comment.slice(0, MAX_TEXT),
          detail: `score ${step.surveyAnswered.score}/5: ${step.surveyAnswered.question}`,
        },
        change: { countsAsMessage: false },
      };
    case 'handedBack':
      return {
        entry: { ...base, kind: K.HISTORY_ENTRY_KIND_OTHER, agentId: step.handedBack.expertAgentId, detail: 'handed back by the expert' },
        change: { countsAsMessage: false },
      };
    case 'requeued':
      return {
        entry: { ...base, kind: K.HISTORY_ENTRY_KIND_OTHER, agentId: step.requeued.previousAgentId, detail: join('put back in the queue', why) },
        change: { countsAsMessage: false },
      };
    case 'callEnded':
      return {
        entry: {
          ...base,
          kind: K.HISTORY_ENTRY_KIND_OTHER,
          agentId: '',
          detail: `call ended (${step.callEnded.status}, ${Math.round(step.callEnded.durationMs / 1000)} s)`,
        },
        change: { countsAsMessage: false },
      };
    default:
      return null;
  }
}

/** The effect of a stored entry on its conversation, for entries applied after the fact. */
export function changeFromEntry(e: Pick<HistoryRecord, 'kind' | 'agentId'>): ConversationChange {
  const K = HistoryEntryKind;
  switch (e.kind) {
    case K.HISTORY_ENTRY_KIND_MESSAGE_IN:
      return { countsAsMessage: true };
    case K.HISTORY_ENTRY_KIND_MESSAGE_OUT:
      return { agentId: e.agentId, countsAsMessage: true };
    case K.HISTORY_ENTRY_KIND_ASSIGNED:
    case K.HISTORY_ENTRY_KIND_TRANSFERRED:
      return e.agentId ? { agentId: e.agentId, countsAsMessage: false } : { countsAsMessage: false };
    case K.HISTORY_ENTRY_KIND_RESOLVED:
      return { status: 'resolved', countsAsMessage: false };
    case K.HISTORY_ENTRY_KIND_ABANDONED:
      return { status: 'abandoned', countsAsMessage: false };
    default:
      return { countsAsMessage: false };
  }
}

function join(...parts: string[]): string {
  return parts.filter(Boolean).join('; ');
}
