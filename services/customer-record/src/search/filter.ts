// A search request as the person gave it, checked and turned into the filter the index runs.
// Every malformed field is an InvalidArgumentError naming it (INVALID_ARGUMENT, HTTP 400), never
// a failure deeper down.
import { CHANNEL_ENUM, isChannelName } from '#libs/contact';
import type { Channel, SearchConversationsRequest } from '#libs/proto';
import { InvalidArgumentError } from '#libs/service/grpc-errors';
import { identity, optionalId, pageSize } from '../api/requests';
import type { NormalisedIdentity } from '#libs/contact';

export const CONVERSATION_STATES = ['queued', 'assigned', 'resolved', 'abandoned'] as const;
export type ConversationState = (typeof CONVERSATION_STATES)[number];
/** What a caller may ask for: a state, `open` for both states before the end, or `closed` for both ends. */
const STATE_FILTERS: Readonly<Record<string, readonly ConversationState[]>> = {
  open: ['queued', 'assigned'],
  queued: ['queued'],
  assigned: ['assigned'],
  resolved: ['resolved'],
  abandoned: ['abandoned'],
  closed: ['resolved', 'abandoned'],
};

const MAX_WORDS_LENGTH = 200;
const MAX_TERMS = 8;
const QUEUE = /^[A-Za-z0-9_.:/-]{1,128}$/;

/**
 * Where a page ended. Newest activity first: the last hit's activity time and its place in the
 * index (ties broken by it). A search by words: the place of the last hit's matching message.
 */
export type SearchCursor = { lastActivityAt: number; seq: number } | { messageSeq: number };

export interface SearchFilter {
  /** Filled by the API: the customer named, or the live customer of the identity, with their identities. */
  customerId?: string;
  conversationId?: string;
  identity?: NormalisedIdentity;
  agentId?: string;
  queue?: string;
  channel?: Channel;
  states?: readonly ConversationState[];
  activeFrom?: number;
  activeTo?: number;
  /** The FTS5 query: every word quoted (so nothing the person typed is an operator), all of them required. */
  match?: string;
  limit: number;
  after?: SearchCursor;
}

function time(value: string, field: string): number | undefined {
  if (!value) return undefined;
  // RFC 3339 with a zone; Date.parse alone would take "5" or "May 3" as well.
  if (!/^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2}))?$/.test(value))
    throw new InvalidArgumentError(`${field} must be an RFC 3339 time such as 2025-03-01T09:00:00Z or a date such as 2025-03-01; got "${value.slice(0, 40)}"`);
  const [y, m, d] = value.slice(0, 10).split('-').map(Number) as [number, number, number];
  const at = Date.parse(value);
  // Date.parse rolls 30 February over into March; the day must exist.
  if (Number.isNaN(at) || new Date(Date.UTC(y, m - 1, d)).getUTCDate() !== d)
    throw new InvalidArgumentError(`${field} is not a real time: "${value.slice(0, 40)}"`);
  return at;
}

/** The FTS5 query for the words typed: each word a quoted string, all of them required. */
export function ftsQuery(words: string): string | undefined {
  if (words.length > MAX_WORDS_LENGTH) throw new InvalidArgumentError(`words is longer than ${MAX_WORDS_LENGTH} characters`);
  if (/[\u0000-\u001f\u007f]/.test(words)) throw new InvalidArgumentError('words must be plain text on one line');
  // Words as the unicode61 tokenizer sees them: letters and digits; everything else separates.
  const terms = words.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
  if (!terms.length) {
    if (words.trim()) throw new InvalidArgumentError('words has no letters or digits to search for');
    return undefined;
  }
  const unique = [...new Set(terms)];
  if (unique.length > MAX_TERMS) throw new InvalidArgumentError(`words may hold at most ${MAX_TERMS} words; got ${unique.length}`);
  return unique.map((t) => `"${t.replaceAll('"', '""')}"`).join(' AND ');
}

export function encodeCursor(c: SearchCursor): string {
  return Buffer.from(JSON.stringify('messageSeq' in c ? [c.messageSeq] : [c.lastActivityAt, c.seq])).toString('base64url');
}

function cursor(token: string, byWords: boolean): SearchCursor | undefined {
  if (!token) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    parsed = undefined;
  }
  const parts = Array.isArray(parsed) && parsed.every((n) => Number.isSafeInteger(n)) ? (parsed as number[]) : [];
  // A token of a search by words continues only such a search, and the other way round.
  if (byWords && parts.length === 1) return { messageSeq: parts[0]! };
  if (!byWords && parts.length === 2) return { lastActivityAt: parts[0]!, seq: parts[1]! };
  throw new InvalidArgumentError('page_token is not one this service issued for this search');
}

/** Parses the request; `customerId` and the identity's customer are resolved by the caller. */
export function parseSearch(req: SearchConversationsRequest, defaultCountry: string): SearchFilter {
  const filter: SearchFilter = { limit: pageSize(req.pageSize, 50, 200) };
  const customerId = optionalId(req.customerId, 'customer_id');
  if (customerId) filter.customerId = customerId;
  const conversationId = optionalId(req.conversationId, 'conversation_id');
  if (conversationId) filter.conversationId = conversationId;
  if (req.identity?.value) filter.identity = identity(req.identity, defaultCountry);
  const agentId = optionalId(req.agentId, 'agent_id');
  if (agentId) filter.agentId = agentId;
  if (req.queue) {
    if (!QUEUE.test(req.queue)) throw new InvalidArgumentError('queue must be 1-128 letters, digits or _.:/- (for example tier1/billing/email)');
    filter.queue = req.queue;
  }
  if (req.channel) {
    if (!isChannelName(req.channel)) throw new InvalidArgumentError(`channel must be one of email, sms, voice, chat, api; got "${req.channel.slice(0, 20)}"`);
    filter.channel = CHANNEL_ENUM[req.channel];
  }
  if (req.state) {
    const states = Object.hasOwn(STATE_FILTERS, req.state) ? STATE_FILTERS[req.state] : undefined;
    if (!states) throw new InvalidArgumentError(`state must be one of ${Object.keys(STATE_FILTERS).join(', ')}; got "${req.state.slice(0, 20)}"`);
    filter.states = states;
  }
  filter.activeFrom = time(req.activeFrom, 'active_from');
  filter.activeTo = time(req.activeTo, 'active_to');
  if (filter.activeFrom !== undefined && filter.activeTo !== undefined && filter.activeFrom >= filter.activeTo)
    throw new InvalidArgumentError('active_from must be before active_to');
  filter.match = ftsQuery(req.words);
  filter.after = cursor(req.pageToken, filter.match !== undefined);
  return filter;
}
