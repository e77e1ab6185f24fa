// The desk's conversation search: the browser's query string as customer-record's request (which
// checks the filter itself and answers a bad one with its reason), and its hits as table rows;
// the supervisor's open conversations grouped by queue and agent, so a reassignment is one click.
import { channelName } from '#libs/contact';
import { IdentityKind, type ConversationHit, type SearchConversationsRequest } from '#libs/proto';
import { FormError } from './forms';

const FIELDS = ['customerId', 'agentId', 'queue', 'channel', 'state', 'activeFrom', 'activeTo', 'words', 'pageToken', 'reason'] as const;
const MAX_FIELD = 500;

/** The request for the query string; the identity is an email address when it has an @, a phone number otherwise. */
export function searchRequest(params: URLSearchParams): SearchConversationsRequest {
  const value = (name: string) => {
    const v = (params.get(name) ?? '').trim();
    if (v.length > MAX_FIELD) throw new FormError(`${name} is longer than ${MAX_FIELD} characters`);
    return v;
  };
  const fields = Object.fromEntries(FIELDS.map((f) => [f, value(f)])) as Record<(typeof FIELDS)[number], string>;
  const who = value('identity');
  const pageSize = Number(value('pageSize') || 0);
  if (!Number.isInteger(pageSize)) throw new FormError('pageSize must be a whole number');
  return {
    ...fields,
    identity: who ? { kind: who.includes('@') ? IdentityKind.IDENTITY_KIND_EMAIL : IdentityKind.IDENTITY_KIND_PHONE, value: who, namespace: '' } : undefined,
    pageSize,
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

export interface OpenGroup {
  queue: string;
  /** Empty while it waits for an agent. */
  agentId: string;
  rows: SearchRow[];
}

/** Open conversations by queue, then agent (waiting ones first), oldest activity first within each. */
export function openGroups(rows: readonly SearchRow[]): OpenGroup[] {
  const groups = new Map<string, OpenGroup>();
  for (const r of rows) {
    const key = `${r.queue}\u0000${r.agentId}`;
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { queue: r.queue, agentId: r.agentId, rows: [] }));
    g.rows.push(r);
  }
  for (const g of groups.values()) g.rows.sort((a, b) => a.lastActivityAt - b.lastActivityAt);
  return [...groups.values()].sort((a, b) => a.queue.localeCompare(b.queue) || a.agentId.localeCompare(b.agentId));
}
