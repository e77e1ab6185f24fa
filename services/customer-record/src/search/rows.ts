// What the search index keeps per conversation, and how each event changes it: pure, so the
// index (SQLite here, a search cluster elsewhere) only stores what these functions return.
import { IdentityKind, type Channel, type ContactReceived, type ConversationEvent } from '#libs/proto';
import { applyEvent, emptyAccess, type ConversationAccess } from '../access';
import { InvalidIdentityError, normaliseIdentity, type NormalisedIdentity } from '#libs/contact';
import type { IndexedConversation } from './conversation-index';

/** A conversation as the index keeps it: what a search answers, and what decides who finds it. */
export interface ConversationRow extends Omit<IndexedConversation, 'channel' | 'snippet'> {
  channel: Channel;
  /** Who may read it, by the same rules as every other read (access.ts). */
  access: ConversationAccess;
  /** The last event ids applied: a record written twice to a topic changes nothing the second time. */
  seen: string[];
}

export interface IndexedMessage {
  /** The event it came from (contact id or event id). */
  id: string;
  text: string;
  /** When it was written (epoch ms): a search by words lists the newest matching message first. */
  at: number;
}

export interface RowChange {
  row: ConversationRow;
  message?: IndexedMessage;
  identity?: NormalisedIdentity;
  /** The name the sender gave, for the officer's look-up by name; not one of someone acting on the customer's behalf. */
  senderName?: string;
}

const MAX_SEEN = 50;
const MAX_TEXT = 20_000;
const MAX_NAME = 200;

function newRow(conversationId: string, channel: Channel, at: number): ConversationRow {
  return {
    conversationId,
    customerId: '',
    channel,
    state: 'queued',
    queue: '',
    agentId: '',
    startedAt: at,
    lastActivityAt: at,
    messageCount: 0,
    subject: '',
    access: emptyAccess(conversationId),
    seen: [],
  };
}

function touched(current: ConversationRow | null, id: string, channel: Channel, eventId: string, at: number): ConversationRow | null {
  if (current?.seen.includes(eventId)) return null;
  const row = current ? { ...current, seen: [...current.seen] } : newRow(id, channel, at);
  row.seen.push(eventId);
  if (row.seen.length > MAX_SEEN) row.seen.splice(0, row.seen.length - MAX_SEEN);
  row.startedAt = Math.min(row.startedAt, at);
  row.lastActivityAt = Math.max(row.lastActivityAt, at);
  if (!row.channel) row.channel = channel;
  return row;
}

/** Email and phone senders are searchable; chat visitor ids and the like are not what a person types. */
function searchableIdentity(c: ContactReceived): NormalisedIdentity | undefined {
  const kind = c.sender?.kind;
  if (kind !== IdentityKind.IDENTITY_KIND_EMAIL && kind !== IdentityKind.IDENTITY_KIND_PHONE) return undefined;
  try {
    return normaliseIdentity(c.sender);
  } catch (err) {
    // A sender the channel could not vouch for is still indexed, just not findable by it.
    if (err instanceof InvalidIdentityError) return undefined;
    throw err;
  }
}

function messageText(...parts: string[]): string {
  return parts.filter(Boolean).join('\n').slice(0, MAX_TEXT);
}

/** An inbound contact: a message of the conversation, from its sender. Null when already applied. */
export function applyContact(current: ConversationRow | null, c: ContactReceived): RowChange | null {
  const at = (c.receivedAt ?? new Date(0)).getTime();
  const row = touched(current, c.conversationId, c.channel, c.contactId, at);
  if (!row) return null;
  row.messageCount += 1;
  if (!row.subject && c.subject) row.subject = c.subject.slice(0, 300);
  const text = messageText(c.subject, c.text);
  const senderName = c.onBehalfOf?.value ? '' : c.senderDisplayName.trim().slice(0, MAX_NAME);
  return { row, message: text ? { id: c.contactId, text, at } : undefined, identity: searchableIdentity(c), ...(senderName ? { senderName } : {}) };
}

/** Where the conversation stands after a step of routing's. */
function step(row: ConversationRow, e: ConversationEvent, at: number): IndexedMessage | undefined {
  const s = e.step;
  switch (s?.$case) {
    case 'queued':
      [row.state, row.queue, row.agentId] = ['queued', s.queued.queue || row.queue, ''];
      break;
    case 'assigned':
      [row.state, row.agentId] = ['assigned', s.assigned.agentId];
      break;
    case 'transferred':
      row.queue = s.transferred.toQueue || row.queue;
      [row.state, row.agentId] = s.transferred.toAgentId ? ['assigned', s.transferred.toAgentId] : ['queued', ''];
      break;
    case 'escalated':
      [row.state, row.queue, row.agentId] = ['queued', s.escalated.queue || row.queue, ''];
      break;
    case 'requeued':
      [row.state, row.agentId] = ['queued', ''];
      break;
    case 'replied':
      row.messageCount += 1;
      return s.replied.text ? { id: e.eventId, text: messageText(s.replied.text), at } : undefined;
    case 'resolved':
      row.state = 'resolved';
      row.agentId = s.resolved.agentId || row.agentId;
      break;
    case 'abandoned':
      row.state = 'abandoned';
      break;
    default:
      break;
  }
  return undefined;
}

/** A conversation event from routing. Null when already applied. */
export function applyConversationEvent(current: ConversationRow | null, e: ConversationEvent): RowChange | null {
  const at = (e.occurredAt ?? new Date(0)).getTime();
  const row = touched(current, e.conversationId, e.channel, e.eventId, at);
  if (!row) return null;
  if (e.customerId) row.customerId = e.customerId;
  const message = step(row, e, at);
  row.access = applyEvent(row.access, e) ?? row.access;
  return { row, message };
}
