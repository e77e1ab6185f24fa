// POST /v1/contacts: the API channel. A contact is answered 202 only once Kafka acknowledged it
// on cc.contact.inbound.v1; a retry with the same Idempotency-Key is the same contact (same
// ce_id, same conversation), and every submission of one threadId joins one conversation.
import type { EventProducer } from '#libs/kafka';
import { topics } from '#libs/kafka';
import { apiContact, contactEventId, contactRequestSchema, fingerprint, IDEMPOTENCY_KEY, type ContactRequest } from './contact-request';
import type { ConversationStore, Submission } from './conversations';
import { IdempotencyKeyReusedError, InvalidRequestError } from './problems';
import type { ApiAnswer, ApiRequest, ApiRoute } from './route-types';
import { zodProblem } from './validation';

export function contactRoute(deps: { conversations: ConversationStore; producer: EventProducer; now?: () => Date }): ApiRoute {
  const now = deps.now ?? (() => new Date());
  return {
    method: 'POST',
    path: '/v1/contacts',
    scope: 'contacts:write',
    async handle(request: ApiRequest): Promise<ApiAnswer> {
      const idempotencyKey = idempotencyKeyOf(request.headers['idempotency-key']);
      const parsed = contactRequestSchema.safeParse(await request.body());
      if (!parsed.success) throw zodProblem(parsed.error);
      const body = parsed.data;
      const contactId = contactEventId(request.key._id, idempotencyKey);
      const submission = await submissionFor(deps.conversations, { body, contactId, application: request.key.application, keyed: !!idempotencyKey }, now());
      if (!submission.publishedAt) {
        const contact = apiContact(body, { application: request.key.application, contactId }, submissionThread(submission), submission.receivedAt);
        await deps.producer.publish(topics.contactInbound, contact.conversationId, contact, { id: contactId, time: submission.receivedAt });
        if (idempotencyKey) await deps.conversations.markPublished(contactId, now());
      }
      return {
        status: 202,
        body: {
          contactId,
          conversationId: submission.conversationId,
          conversationReference: submission.reference,
          newConversation: submission.newConversation,
          receivedAt: submission.receivedAt.toISOString(),
        },
        audit: { contactId },
      };
    },
  };
}

export function idempotencyKeyOf(header: string | string[] | undefined): string | undefined {
  if (header === undefined) return undefined;
  if (typeof header !== 'string' || !IDEMPOTENCY_KEY.test(header)) throw new InvalidRequestError('Idempotency-Key must be 1-255 printable ASCII characters');
  return header;
}

/** What this submission is given: the earlier answer for a retry of a keyed one, else a claim on its thread. */
async function submissionFor(
  conversations: ConversationStore,
  s: { body: ContactRequest; contactId: string; application: string; keyed: boolean },
  at: Date,
): Promise<Submission> {
  const print = fingerprint(s.body);
  const earlier = s.keyed ? await conversations.submission(s.contactId) : null;
  if (earlier) return checked(earlier, print);
  const thread = await conversations.claimThread(s.application, s.body.threadId, at);
  const fresh: Submission = {
    _id: s.contactId,
    fingerprint: print,
    conversationId: thread.conversationId,
    reference: thread.reference,
    newConversation: thread.isNew,
    receivedAt: at,
  };
  return s.keyed ? checked(await conversations.remember(fresh), print) : fresh;
}

function checked(submission: Submission, print: string): Submission {
  if (submission.fingerprint !== print) throw new IdempotencyKeyReusedError();
  return submission;
}

const submissionThread = (s: Submission) => ({ conversationId: s.conversationId, reference: s.reference, isNew: s.newConversation });
