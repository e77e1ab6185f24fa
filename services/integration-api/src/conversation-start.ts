// POST /v1/conversations: the company writes first, to a customer on email or SMS (a chat is
// always started by the visitor; an API thread by the application's own customer). The
// recipient must be a verified identity of the customer on customer-record (read as the key,
// audited there with the reason); each key may start a limited number per hour. Routing opens
// the conversation and publishes its first message on cc.outbound.v1 for the email or SMS
// service to deliver; 202 comes only once that is committed. An Idempotency-Key makes a retry
// the same conversation, its message sent once.
import { newConversationId, newConversationReference } from '#libs/contact';
import { CHANNEL_ENUM } from '#libs/contact';
import { RateLimiter } from '#libs/rate-limit';
import type { Backends } from './backends';
import { fingerprint } from './contact-request';
import { idempotencyKeyOf } from './contacts';
import type { ConversationBackend } from './conversation-backends';
import { recipientRefusal } from '#libs/contact';
import { recipientOf, requestIdOf, startBody } from './conversation-requests';
import { conversationView } from './conversation-views';
import { RateLimitedError, RecipientNotVerifiedProblem } from './problems';
import type { RequestClaims } from './request-claims';
import type { ApiRoute } from './route-types';
import { zodProblem } from './validation';

const HOUR_MS = 3600_000;

export function conversationStartRoute(deps: {
  conversations: ConversationBackend;
  customers: Pick<Backends, 'customer'>;
  claims: Pick<RequestClaims, 'claim'>;
  startsPerHour: number;
  now?: () => Date;
}): ApiRoute {
  const now = deps.now ?? (() => new Date());
  const starts = new RateLimiter(deps.startsPerHour, HOUR_MS);
  return {
    method: 'POST',
    path: '/v1/conversations',
    scope: 'conversations:start',
    async handle(request) {
      const idempotencyKey = idempotencyKeyOf(request.headers['idempotency-key']);
      const parsed = startBody.safeParse(await request.body());
      if (!parsed.success) throw zodProblem(parsed.error);
      const body = parsed.data;
      const requestId = requestIdOf(request.key._id, idempotencyKey);
      const conversationId = requestId ? `conv-api-${requestId}` : newConversationId();
      const claim = requestId ? await deps.claims.claim(requestId, { route: 'start', conversationId, fingerprint: fingerprint(body) }, now()) : 'first';
      const { _id: keyId, application } = request.key;
      const reason = `API key ${keyId} (${application}): company-initiated ${body.channel} conversation`;
      const { customer } = await deps.customers.customer({ customerId: body.customerId, conversationId: '', reason });
      const recipient = recipientOf(body);
      const refused = recipientRefusal(customer!, recipient);
      if (refused) throw new RecipientNotVerifiedProblem(refused);
      // Counted once the request is sound (a refused one sends nothing), and once per Idempotency-Key.
      if (claim === 'first' && !starts.take(keyId, now().getTime()))
        throw new RateLimitedError(
          `over ${deps.startsPerHour} company-initiated conversations an hour for this key`,
          starts.retryAfterMs(keyId, now().getTime()),
        );
      const started = await deps.conversations.start({
        conversationId,
        application,
        channel: CHANNEL_ENUM[body.channel],
        customerId: customer!.customerId,
        recipient,
        subject: body.subject ?? '',
        text: body.text,
        reference: newConversationReference(),
        skill: '',
        noticeId: '',
      });
      return {
        status: 202,
        body: { conversation: conversationView(started.conversation!), messageId: started.outboundMessageId, created: started.created },
        audit: { conversationId, customerId: customer!.customerId, reason: `company-initiated ${body.channel} conversation` },
      };
    },
  };
}
