// Acting on a conversation for the application of the API key. The application is neither an
// agent nor a supervisor: it writes as `api:<application>`, replies and resolves or transfers
// only its own conversations (its API threads and those it started; routing checks, 403
// otherwise), and may put a note, which no customer sees, on any conversation. Each answer
// comes once routing's decision is stored and published; an Idempotency-Key makes a retry of a
// message or note the same one, sent once.
import type { z } from 'zod';
import { fingerprint } from './contact-request';
import { idempotencyKeyOf } from './contacts';
import type { ConversationBackend } from './conversation-backends';
import { conversationIdOf, messageBody, noteBody, requestIdOf, resolveBody, transferBody } from './conversation-requests';
import { conversationView } from './conversation-views';
import type { RequestClaims } from './request-claims';
import type { ApiAnswer, ApiRequest, ApiRoute } from './route-types';
import { zodProblem } from './validation';

interface ActionDeps {
  conversations: ConversationBackend;
  claims: Pick<RequestClaims, 'claim'>;
  now?: () => Date;
}

async function bodyOf<S extends z.ZodType>(schema: S, request: ApiRequest): Promise<z.output<S>> {
  const parsed = schema.safeParse(await request.body());
  if (!parsed.success) throw zodProblem(parsed.error);
  return parsed.data;
}

export function conversationActionRoutes(deps: ActionDeps): ApiRoute[] {
  const now = deps.now ?? (() => new Date());

  /** The conversation, the body, and the request id a retry shares ('' without an Idempotency-Key). */
  const creating = async <S extends z.ZodType>(route: string, schema: S, request: ApiRequest) => {
    const idempotencyKey = idempotencyKeyOf(request.headers['idempotency-key']);
    const conversationId = conversationIdOf(request.params);
    const body = await bodyOf(schema, request);
    const requestId = requestIdOf(request.key._id, idempotencyKey);
    if (requestId) await deps.claims.claim(requestId, { route, conversationId, fingerprint: fingerprint(body) }, now());
    return { body, call: { conversationId, requestId, application: request.key.application } };
  };

  const withConversation = async (conversationId: string, status: number): Promise<ApiAnswer> => {
    const { conversation } = await deps.conversations.get(conversationId);
    return { status, body: conversationView(conversation!), audit: { conversationId } };
  };

  return [
    {
      method: 'POST',
      path: '/v1/conversations/{conversationId}/messages',
      scope: 'conversations:write',
      async handle(request) {
        const r = await creating('messages', messageBody, request);
        const { conversationId } = r.call;
        const sent = await deps.conversations.postMessage({ ...r.call, text: r.body.text, subject: r.body.subject ?? '' });
        return { status: 202, body: { messageId: sent.outboundMessageId, conversationId }, audit: { conversationId } };
      },
    },
    {
      method: 'POST',
      path: '/v1/conversations/{conversationId}/notes',
      scope: 'conversations:write',
      async handle(request) {
        const r = await creating('notes', noteBody, request);
        const { conversationId } = r.call;
        const { noteId } = await deps.conversations.addNote({ ...r.call, text: r.body.text });
        return { status: 201, body: { noteId, conversationId }, audit: { conversationId } };
      },
    },
    {
      method: 'POST',
      path: '/v1/conversations/{conversationId}/resolve',
      scope: 'conversations:manage',
      async handle(request) {
        const conversationId = conversationIdOf(request.params);
        const body = await bodyOf(resolveBody, request);
        await deps.conversations.resolve({ conversationId, application: request.key.application, disposition: body.disposition ?? '' });
        return withConversation(conversationId, 200);
      },
    },
    {
      method: 'POST',
      path: '/v1/conversations/{conversationId}/transfer',
      scope: 'conversations:manage',
      async handle(request) {
        const conversationId = conversationIdOf(request.params);
        const body = await bodyOf(transferBody, request);
        await deps.conversations.transfer({
          conversationId,
          application: request.key.application,
          toQueue: body.toQueue ?? '',
          toAgentId: body.toAgentId ?? '',
          note: body.note ?? '',
        });
        return withConversation(conversationId, 200);
      },
    },
  ];
}
