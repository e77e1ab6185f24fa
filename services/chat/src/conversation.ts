// Conversation bookkeeping without I/O: ids, references, how outbound messages become what the
// visitor sees, and what the wait estimate is.
import { randomBytes } from 'node:crypto';
import { eventId } from '#libs/contact';
import { OutboundKind, type OutboundMessage } from '#libs/proto';
import type { ChatEntry, ClosedQueue, ServerFrame } from './protocol';

export function newId(prefix: string): string {
  return `${prefix}_${randomBytes(12).toString('base64url')}`;
}

/** ce_id of a visitor's message: the same for every resend, so downstream de-duplicates it. */
export function contactEventId(visitorId: string, clientMessageId: string): string {
  return eventId('chat', 'chat', visitorId, clientMessageId);
}

export function surveyEventId(conversationId: string): string {
  return eventId('chat', 'chat-survey', conversationId);
}

/** The last wait routing sent, kept for a visitor who comes back. */
export interface KnownWait {
  position: number | null;
  estimatedWaitMs: number;
  closed?: ClosedQueue;
}

export type OutboundEffect =
  | { action: 'entry'; entry: Omit<ChatEntry, 'seq' | 'at' | 'type'>; ends?: boolean }
  | { action: 'transient'; frame: ServerFrame; wait?: KnownWait }
  | { action: 'ignore'; why: string };

/**
 * What an outbound message means for the visitor: a numbered entry, a live-only frame, or nothing.
 * `closedEmail` is the address offered while the queue is closed.
 */
export function outboundEffect(message: OutboundMessage, closedEmail = ''): OutboundEffect {
  const text = message.text ?? '';
  switch (message.kind) {
    case OutboundKind.OUTBOUND_KIND_REPLY:
      if (!text.trim()) return { action: 'ignore', why: 'reply without text' };
      return { action: 'entry', entry: { from: 'agent', kind: 'message', text } };
    case OutboundKind.OUTBOUND_KIND_ACKNOWLEDGEMENT:
      return text.trim() ? { action: 'entry', entry: { from: 'system', kind: 'notice', text } } : { action: 'ignore', why: 'empty acknowledgement' };
    case OutboundKind.OUTBOUND_KIND_AGENT_JOINED:
      return { action: 'entry', entry: { from: 'system', kind: 'agent-joined', text: text || 'An agent joined the chat.' } };
    case OutboundKind.OUTBOUND_KIND_TYPING:
      return { action: 'transient', frame: { type: 'typing' } };
    case OutboundKind.OUTBOUND_KIND_CONVERSATION_ENDED:
      return { action: 'entry', entry: { from: 'system', kind: 'ended', text: text || 'The chat has ended.' }, ends: true };
    case OutboundKind.OUTBOUND_KIND_SURVEY:
      return { action: 'entry', entry: { from: 'system', kind: 'survey', text: text || 'How satisfied are you with this chat? (1-5)' } };
    case OutboundKind.OUTBOUND_KIND_STATUS_UPDATE: {
      // A transfer to an expert is a status update that says so in channel_metadata.
      if (message.channelMetadata?.event === 'transfer' || message.channelMetadata?.event === 'escalated') {
        return { action: 'entry', entry: { from: 'system', kind: 'transfer', text: text || 'You are being transferred to a specialist.' } };
      }
      const position = message.queuePosition > 0 ? message.queuePosition : null;
      const estimatedWaitMs = Math.max(0, message.estimatedWaitMs);
      if (position === null && estimatedWaitMs === 0) {
        return text.trim() ? { action: 'entry', entry: { from: 'system', kind: 'notice', text } } : { action: 'ignore', why: 'empty status update' };
      }
      const wait: KnownWait = { position, estimatedWaitMs };
      // While closed, routing's text says when it opens and that the visitor will be answered then.
      if (message.closedUntil)
        wait.closed = { until: message.closedUntil.toISOString(), notice: text, hours: message.hours, ...(closedEmail ? { email: closedEmail } : {}) };
      return { action: 'transient', frame: waitFrame(wait, 0), wait };
    }
    default:
      return { action: 'ignore', why: `outbound kind ${message.kind} is not shown in chat` };
  }
}

/** The wait the visitor is told: routing's estimate once it sent one, else the chat SLA target. */
export function waitFrame(known: KnownWait | undefined, slaTargetMs: number): ServerFrame {
  if (known)
    return {
      type: 'wait',
      position: known.position,
      estimatedWaitMs: known.estimatedWaitMs,
      source: 'routing',
      ...(known.closed ? { closed: known.closed } : {}),
    };
  return { type: 'wait', position: null, estimatedWaitMs: slaTargetMs, source: 'target' };
}
