// Conversations as the integration API reads them, with no I/O: the view of one record (no
// subject, no texts: contents are customer-record's to give) and a filtered page of them,
// newest first, with a cursor that stays valid while conversations open and end.
import { CHANNEL_ENUM } from '#libs/contact';
import { Channel, type LiveConversation } from '#libs/proto';
import type { ConversationRecord } from './core/engine';
import type { RoutingPolicy } from './core/policy';
import { InvalidArgumentError, NotFoundError } from '#libs/service/grpc-errors';

export function liveConversation(conv: ConversationRecord, policy: RoutingPolicy): LiveConversation {
  const application = conv.startedBy ?? (conv.channel === 'api' ? (conv.channelMetadata.application ?? '') : '');
  return {
    conversationId: conv.id,
    channel: CHANNEL_ENUM[conv.channel],
    state: conv.state,
    queue: conv.queue,
    tier: conv.tier,
    agentId: conv.agentId,
    customerId: conv.customerId,
    reference: conv.reference,
    createdAt: new Date(conv.createdAt),
    assignedAt: conv.assignedAt ? new Date(conv.assignedAt) : undefined,
    slaState: conv.slaState,
    slaTargetMs: policy.slaTargetMs[conv.channel],
    escalated: conv.escalated,
    application,
    companyInitiated: conv.startedBy !== undefined || conv.outreach !== undefined,
  };
}

export interface ConversationFilter {
  state: '' | 'open' | 'resolved';
  queue: string;
  channel: Channel;
  customerId: string;
  pageSize: number;
  pageToken: string;
}

const ended = (c: ConversationRecord) => c.state === 'resolved' || c.state === 'abandoned';

/** Newest first: by creation time, then by id. */
const newerFirst = (a: ConversationRecord, b: ConversationRecord) => b.createdAt - a.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

function matches(c: ConversationRecord, f: ConversationFilter): boolean {
  if (f.state === 'open' && ended(c)) return false;
  if (f.state === 'resolved' && !ended(c)) return false;
  if (f.queue && c.queue !== f.queue) return false;
  if (f.channel !== Channel.CHANNEL_UNSPECIFIED && CHANNEL_ENUM[c.channel] !== f.channel) return false;
  return !f.customerId || c.customerId === f.customerId;
}

/** The cursor names the last conversation of a page by its place in the order, not its index. */
const tokenOf = (c: ConversationRecord) => Buffer.from(`${c.createdAt}|${c.id}`).toString('base64url');

function afterToken(token: string): (c: ConversationRecord) => boolean {
  if (!token) return () => true;
  const m = /^(\d{1,15})\|(.{1,200})$/s.exec(Buffer.from(token, 'base64url').toString('utf8'));
  // Not a page of this list: NOT_FOUND, so that a caller never takes it for an empty last page.
  if (!m) throw new NotFoundError('page_token names no page of this list; start again without it');
  const at = Number(m[1]);
  const id = m[2]!;
  return (c) => c.createdAt < at || (c.createdAt === at && c.id > id);
}

export function checkFilter(req: { state: string; pageSize: number; channel: Channel }): void {
  if (!['', 'open', 'resolved'].includes(req.state)) throw new InvalidArgumentError('state must be open, resolved or empty');
  if (req.pageSize < 0 || req.pageSize > 200) throw new InvalidArgumentError('page_size must be 1-200 (0 means 50)');
  if (!Object.values(Channel).includes(req.channel) || req.channel === Channel.UNRECOGNIZED) throw new InvalidArgumentError('channel is not a known channel');
}

/** One page of the conversations that match, and the token of the next page ('' for the last). */
export function conversationPage(all: Iterable<ConversationRecord>, f: ConversationFilter): { page: ConversationRecord[]; nextPageToken: string } {
  const size = f.pageSize || 50;
  const after = afterToken(f.pageToken);
  const found = [...all].filter((c) => matches(c, f) && after(c)).sort(newerFirst);
  const page = found.slice(0, size);
  return { page, nextPageToken: found.length > size ? tokenOf(page.at(-1)!) : '' };
}
