// How events become history entries. Each entry's id is the event's own id, so writing it
// with an upsert makes a replay a no-op.
import type { OnBehalfRecord } from './mandates';
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
  /** Inbound messages and agents' replies; absent when there were none (the store drops empty arrays on insert). */
  attachments?: Attachment[];
  /** A contact made by an intermediary for the customer, or only claimed to be. */
  onBehalf?: OnBehalfRecord;
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
    ...kept(c.attachments),
  };
}

/** The files a message carried, bounded, or nothing (the store drops empty arrays anyway). */
function kept(attachments: readonly Attachment[]): { attachments?: Attachment[] } {
  if (!attachments.length) return {};
  return {
    attachments: attachments.slice(0, 50).map((a) => ({
      name: a.name.slice(0, 255),
      contentType: a.contentType.slice(0, 255),
      sizeBytes: a.sizeBytes,
      sha256: a.sha256,
      storageRef: a.storageRef,
    })),
  };
}

type Step = NonNullable<ConversationEvent['step']>;
type StepOf<C extends Step['$case']> = Extract<Step, { $case: C }>;

/** What one step says about the conversation; ids and times come from the event itself. */
interface StepEntry {
  kind: HistoryEntryKind;
  agentId: string;
  detail: string;
  text?: string;
  /** Files an agent's reply carried. */
  attachments?: readonly Attachment[];
  change: ConversationChange;
}

const K = HistoryEntryKind;
const unchanged = (): ConversationChange => ({ countsAsMessage: false });

/**
 * The steps that are part of the customer's story, each with its entry; `why` is the event's
 * reason in words. Steps not listed (offers to agents, declined offers, delivery receipts) are
 * not history.
 */
const STEPS: { [C in Step['$case']]?: (step: StepOf<C>, why: string) => StepEntry } = {
  queued: ({ queued }, why) => ({ kind: K.HISTORY_ENTRY_KIND_QUEUED, agentId: '', detail: join(`queue ${queued.queue}`, why), change: unchanged() }),
  assigned: ({ assigned }, why) => ({
    kind: K.HISTORY_ENTRY_KIND_ASSIGNED,
    agentId: assigned.agentId,
    detail: why,
    change: { agentId: assigned.agentId, countsAsMessage: false },
  }),
  escalated: ({ escalated }, why) => ({
    kind: K.HISTORY_ENTRY_KIND_ESCALATED,
    agentId: escalated.fromAgentId,
    detail: join(escalated.automatic ? 'escalated by rule' : 'escalated by agent', `to ${escalated.queue}`, why),
    change: unchanged(),
  }),
  transferred: ({ transferred }, why) => ({
    kind: K.HISTORY_ENTRY_KIND_TRANSFERRED,
    agentId: transferred.toAgentId,
    detail: join(`from ${transferred.fromAgentId}`, why),
    change: transferred.toAgentId ? { agentId: transferred.toAgentId, countsAsMessage: false } : unchanged(),
  }),
  replied: ({ replied }) => ({
    kind: K.HISTORY_ENTRY_KIND_MESSAGE_OUT,
    agentId: replied.agentId,
    text: replied.text.slice(0, MAX_TEXT),
    detail: replied.attachments.length ? `${replied.attachments.length} attachment(s)` : '',
    attachments: replied.attachments,
    change: { agentId: replied.agentId, countsAsMessage: true },
  }),
  resolved: ({ resolved }, why) => ({
    kind: K.HISTORY_ENTRY_KIND_RESOLVED,
    agentId: resolved.agentId,
    detail: join(resolved.disposition, why),
    change: { status: 'resolved', countsAsMessage: false },
  }),
  abandoned: ({ abandoned }) => ({
    kind: K.HISTORY_ENTRY_KIND_ABANDONED,
    agentId: '',
    detail: `after waiting ${Math.round(abandoned.waitedMs / 1000)} s`,
    change: { status: 'abandoned', countsAsMessage: false },
  }),
  surveyAnswered: ({ surveyAnswered }) => ({
    kind: K.HISTORY_ENTRY_KIND_SURVEY_ANSWERED,
    agentId: '',
    text: surveyAnswered.comment.slice(0, MAX_TEXT),
    detail: `score ${surveyAnswered.score}/5: ${surveyAnswered.question}`,
    change: unchanged(),
  }),
  // An internal note: a content like a message's text, shown only to those who see contents.
  noteAdded: ({ noteAdded }) => ({
    kind: K.HISTORY_ENTRY_KIND_OTHER,
    agentId: noteAdded.author,
    text: noteAdded.text.slice(0, MAX_TEXT),
    detail: 'internal note',
    change: unchanged(),
  }),
  handedBack: ({ handedBack }) => ({
    kind: K.HISTORY_ENTRY_KIND_OTHER,
    agentId: handedBack.expertAgentId,
    detail: 'handed back by the expert',
    change: unchanged(),
  }),
  requeued: ({ requeued }, why) => ({
    kind: K.HISTORY_ENTRY_KIND_OTHER,
    agentId: requeued.previousAgentId,
    detail: join('put back in the queue', why),
    change: unchanged(),
  }),
  // A callback's steps in the story: asked (with the time promised), retried, given up, answered.
  callbackProgress: (_step, why) => ({ kind: K.HISTORY_ENTRY_KIND_OTHER, agentId: '', detail: why, change: unchanged() }),
  callEnded: ({ callEnded }) => ({
    kind: K.HISTORY_ENTRY_KIND_OTHER,
    agentId: '',
    detail: `call ended (${callEnded.status}, ${Math.round(callEnded.durationMs / 1000)} s)`,
    change: unchanged(),
  }),
  // The recording's link is content (the call itself): its text is left out for those who do not see contents.
  callRecorded: ({ callRecorded }) => {
    const seconds = Math.round(Number(callRecorded.durationMs) / 1000);
    return {
      kind: K.HISTORY_ENTRY_KIND_OTHER,
      agentId: '',
      text: `Call recording (${seconds} s, ${callRecorded.recordingSid}): ${callRecorded.url.slice(0, 2000)}`,
      detail: `call recorded (${seconds} s)`,
      change: unchanged(),
    };
  },
};

/** Returns null for steps that are not part of the customer's story (offers to agents, delivery receipts). */
export function entryFromConversationEvent(e: ConversationEvent, customerId: string): { entry: HistoryRecord; change: ConversationChange } | null {
  const step = e.step;
  const read = step && (STEPS[step.$case] as ((step: Step, why: string) => StepEntry) | undefined);
  if (!step || !read) return null;
  const { change, text = '', kind, agentId, detail, attachments = [] } = read(step, e.reason?.text ?? '');
  const entry: HistoryRecord = {
    _id: `event:${e.eventId}`,
    customerId,
    conversationId: e.conversationId,
    channel: e.channel,
    occurredAt: e.occurredAt ?? new Date(0),
    subject: '',
    text,
    kind,
    agentId,
    detail,
    ...kept(attachments),
  };
  return { entry, change };
}

/** The effect of a stored entry on its conversation, for entries applied after the fact. */
export function changeFromEntry(e: Pick<HistoryRecord, 'kind' | 'agentId'>): ConversationChange {
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
