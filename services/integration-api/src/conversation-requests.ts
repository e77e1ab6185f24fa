// What the /v1/conversations routes accept, with no I/O: the query and bodies (as openapi.json
// states them), the id a retry shares, and the rule for a company-initiated conversation's
// recipient: a verified identity of the customer, never a claim.
import { z } from 'zod';
import { CHANNEL_ENUM, idDigest, recipientIdentity } from '#libs/contact';
import { Channel, type Identity, SearchConversationsRequest } from '#libs/proto';
import { chars } from './contact-request';
import { InvalidRequestError } from './problems';
import { cursor, CUSTOMER_ID, limit, reason } from './query';

const LINE = /^[^\x00-\x1f\x7f]*$/;
// Some words: at least one character that is not a space, no control characters but line breaks and tabs.
const TEXT = /^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*[^\x00-\x20\x7f][^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$/;
const CONVERSATION_ID = /^[A-Za-z0-9_.:@-]{1,128}$/;
const QUEUE = /^tier[12]\/[a-z0-9_-]{1,64}\/(?:email|sms|voice|chat|api)$/;
const AGENT_ID = /^[A-Za-z0-9_.@-]{1,64}$/;
const EMAIL = /^[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$/;
const PHONE = /^\+[1-9][0-9]{6,14}$/;

const text = (max: number, what: string) => chars(max, TEXT, `${what}: some words, without control characters`);
const line = (max: number, what: string) => chars(max, LINE, `${what}: plain text on one line`);
const CHANNELS = ['email', 'sms', 'voice', 'chat', 'api'] as const;

export const conversationListQuery = z
  .object({
    state: z.enum(['open', 'resolved', 'all'], 'state: open, resolved or all').default('open'),
    queue: z.string().regex(QUEUE, 'queue: a queue name such as tier1/billing/email').optional(),
    channel: z.enum(CHANNELS, 'channel: email, sms, voice, chat or api').optional(),
    customerId: z.string().regex(CUSTOMER_ID, 'customerId: 1-128 letters, digits or _.:@-').optional(),
    limit: limit(200, 50),
    cursor,
  })
  .strict();

export type ConversationListQuery = z.infer<typeof conversationListQuery>;

/** The query as routing's ListConversations takes it. */
export function listRequest(q: ConversationListQuery) {
  return {
    state: q.state === 'all' ? '' : q.state,
    queue: q.queue ?? '',
    channel: q.channel ? CHANNEL_ENUM[q.channel] : Channel.CHANNEL_UNSPECIFIED,
    customerId: q.customerId ?? '',
    pageSize: q.limit,
    pageToken: q.cursor ?? '',
  };
}

/**
 * The query as customer-record's SearchConversations takes it, for ended conversations (and all):
 * routing holds only open ones once it restarted, the record every one. `reason` names the key.
 */
export function recordRequest(q: Partial<ConversationListQuery>, reason: string, conversationId = ''): SearchConversationsRequest {
  return SearchConversationsRequest.fromPartial({
    state: q.state === 'resolved' ? 'closed' : '',
    queue: q.queue ?? '',
    channel: q.channel ?? '',
    customerId: q.customerId ?? '',
    pageSize: q.limit ?? 0,
    pageToken: q.cursor ?? '',
    reason,
    conversationId,
  });
}

/** `reason` asks for the texts (scope conversations:read-texts): why they are read, kept in both audit trails. */
export const conversationQuery = z
  .object({
    reason: reason('the texts are read').optional(),
  })
  .strict();

export function conversationIdOf(params: Record<string, string>): string {
  const id = params.conversationId ?? '';
  if (!CONVERSATION_ID.test(id)) throw new InvalidRequestError('conversationId must be 1-128 letters, digits or _.:@-');
  return id;
}

export const messageBody = z.object({ text: text(10_000, 'text'), subject: line(200, 'subject').optional() }).strict();
export const noteBody = z.object({ text: text(5000, 'text') }).strict();
export const resolveBody = z.object({ disposition: line(200, 'disposition').optional() }).strict();
export const transferBody = z
  .object({
    toQueue: z.string().regex(QUEUE, 'toQueue: a queue name such as tier1/billing/email').optional(),
    toAgentId: z.string().regex(AGENT_ID, 'toAgentId: 1-64 letters, digits or _.@-').optional(),
    note: text(5000, 'note').optional(),
  })
  .strict()
  .refine((b) => Boolean(b.toQueue) !== Boolean(b.toAgentId), { message: 'give exactly one of toQueue and toAgentId', path: ['toQueue'] });

export const startBody = z
  .object({
    channel: z.enum(['email', 'sms'], 'channel: email or sms (a chat is started by the visitor)'),
    customerId: z.string().regex(CUSTOMER_ID, 'customerId: 1-128 letters, digits or _.:@-'),
    to: z.string().max(254),
    subject: line(200, 'subject').optional(),
    text: text(1600, 'text'),
  })
  .strict()
  .superRefine((b, ctx) => {
    if (b.channel === 'email' && !EMAIL.test(b.to)) ctx.addIssue({ code: 'custom', path: ['to'], message: 'to: an email address such as kim@example.org' });
    if (b.channel === 'sms' && !PHONE.test(b.to)) ctx.addIssue({ code: 'custom', path: ['to'], message: 'to: an E.164 number such as +15005550006' });
    if (b.channel === 'sms' && b.subject !== undefined) ctx.addIssue({ code: 'custom', path: ['subject'], message: 'subject: an SMS has none' });
  });

export type StartBody = z.infer<typeof startBody>;

/** The id routing keeps for a request with an Idempotency-Key, so a retry is answered and not done again; '' without one. */
export function requestIdOf(keyId: string, idempotencyKey: string | undefined): string {
  return idempotencyKey ? idDigest(`${keyId}\n${idempotencyKey}`) : '';
}

/** The recipient as customer-record keeps identities (emails lower-cased, phones in E.164). */
export function recipientOf(body: Pick<StartBody, 'channel' | 'to'>): Identity {
  return recipientIdentity(body.channel, body.to);
}
