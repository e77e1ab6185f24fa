// The conversation search as the desk and the console take it from a browser: the query string
// as customer-record's SearchConversations request (customer-record checks the filter itself and
// answers a bad one with its reason), and its hits as plain rows for a table.
import { channelName } from '../contact';
import { IdentityKind, type ConversationHit, type SearchConversationsRequest } from '../proto';
import { BadRequestError } from './errors';

const FIELDS = ['customerId', 'agentId', 'queue', 'channel', 'state', 'activeFrom', 'activeTo', 'words', 'pageToken', 'reason'] as const;
const MAX_FIELD = 500;

/** The request for the query string; the identity is an email address when it has an @, a phone number otherwise. */
export function searchRequest(params: URLSearchParams): SearchConversationsRequest {
  const value = (name: string) => {
    const v = (params.get(name) ?? '').trim();
    if (v.length > MAX_FIELD) throw new BadRequestError(`${name} is longer than ${MAX_FIELD} characters`);
    return v;
  };
  const fields = Object.fromEntries(FIELDS.map((f) => [f, value(f)])) as Record<(typeof FIELDS)[number], string>;
  const who = value('identity');
  const pageSize = Number(value('pageSize') || 0);
  if (!Number.isInteger(pageSize)) throw new BadRequestError('pageSize must be a whole number');
  return {
    ...fields,
    identity: who ? { kind: who.includes('@') ? IdentityKind.IDENTITY_KIND_EMAIL : IdentityKind.IDENTITY_KIND_PHONE, value: who, namespace: '' } : undefined,
    pageSize,
    conversationId: '',
  };
}

export interface SearchRow {
  conversationId: string;
  customerId: string;
  channel: string;
  state: string;
  queue: string;
  agentId: string;
  startedAt: number;
  lastActivityAt: number;
  messages: number;
  subject: string;
  snippet: string;
}

export function searchRow(h: ConversationHit): SearchRow {
  return {
    conversationId: h.conversationId,
    customerId: h.customerId,
    channel: channelName(h.channel) ?? 'unknown',
    state: h.state,
    queue: h.queue,
    agentId: h.agentId,
    startedAt: h.startedAt?.getTime() ?? 0,
    lastActivityAt: h.lastActivityAt?.getTime() ?? 0,
    messages: h.messageCount,
    subject: h.subject,
    snippet: h.snippet,
  };
}
