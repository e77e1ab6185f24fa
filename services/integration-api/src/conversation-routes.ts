// Reading conversations: routing holds the live state of open ones (where each is, with whom, its
// SLA), customer-record a record of every one, ended ones too (its search index), and their steps
// (the history it projected from the events). A conversation is read as a service reads it: no
// subject, no message texts (customer-record gives a service none), so the scope
// conversations:read needs no reason; customer-record still audits the history read, naming the
// key. With a reason and the scope conversations:read-texts the steps carry their texts and subjects.
import { status as GrpcStatus } from '@grpc/grpc-js';
import type { SearchConversationsRequest, SearchConversationsResponse } from '#libs/proto';
import type { Backends } from './backends';
import type { ConversationBackend } from './conversation-backends';
import { conversationIdOf, conversationListQuery, conversationQuery, listRequest, recordRequest } from './conversation-requests';
import { conversationDetail, conversationView, recordedConversationView, type ConversationView } from './conversation-views';
import { NotFoundProblem, ScopeMissingError } from './problems';
import { queryOf } from './query';
import type { ApiRequest, ApiRoute } from './route-types';

type Deps = { conversations: ConversationBackend; customers: Pick<Backends, 'history' | 'recordedConversations'> };

const keyNamed = (request: ApiRequest, why: string) => `API key ${request.key._id} (${request.key.application}): ${why}`.slice(0, 500);

// Routing answers these while it restarts or when it never held the conversation: the record may still have it.
const ASK_THE_RECORD: readonly number[] = [GrpcStatus.NOT_FOUND, GrpcStatus.UNAVAILABLE, GrpcStatus.DEADLINE_EXCEEDED];

/**
 * Routing's live view while it holds the conversation; customer-record's record of an ended one
 * when routing does not (restarted) or cannot answer. One the record has open but routing not
 * yet is not found yet; routing's own failure stands when the record has nothing either.
 */
async function findConversation(deps: Deps, request: ApiRequest, conversationId: string): Promise<ConversationView> {
  let routingFailure: unknown;
  try {
    return conversationView((await deps.conversations.get(conversationId)).conversation!);
  } catch (err) {
    if (!ASK_THE_RECORD.includes((err as { code?: number }).code ?? -1)) throw err;
    routingFailure = err;
  }
  const { hits } = await deps.customers.recordedConversations(
    recordRequest({ state: 'resolved', limit: 1 }, keyNamed(request, 'conversation read'), conversationId),
  );
  if (hits[0]) return recordedConversationView(hits[0]);
  if ((routingFailure as { code?: number }).code === GrpcStatus.NOT_FOUND) throw new NotFoundProblem(`no conversation ${conversationId}`);
  throw routingFailure;
}

/** A page of the record. Every other field was checked here already, so a refusal names the cursor: as routing's, one that names no page is 404. */
async function recordedPage(deps: Deps, query: SearchConversationsRequest): Promise<SearchConversationsResponse> {
  try {
    return await deps.customers.recordedConversations(query);
  } catch (err) {
    if (query.pageToken && (err as { code?: number }).code === GrpcStatus.INVALID_ARGUMENT) throw new NotFoundProblem('no page at this cursor');
    throw err;
  }
}

export function conversationReadRoutes(deps: Deps): ApiRoute[] {
  return [
    {
      method: 'GET',
      path: '/v1/conversations',
      scope: 'conversations:read',
      async handle(request) {
        const q = queryOf(conversationListQuery, request);
        if (q.state === 'open') {
          const page = await deps.conversations.list(listRequest(q));
          return { status: 200, body: { conversations: page.conversations.map(conversationView), nextCursor: page.nextPageToken || null } };
        }
        const page = await recordedPage(deps, recordRequest(q, keyNamed(request, 'conversations listed')));
        return { status: 200, body: { conversations: page.hits.map(recordedConversationView), nextCursor: page.nextPageToken || null } };
      },
    },
    {
      method: 'GET',
      path: '/v1/conversations/{conversationId}',
      scope: 'conversations:read',
      async handle(request) {
        const conversationId = conversationIdOf(request.params);
        const { reason } = queryOf(conversationQuery, request);
        // Texts are customer data: only with the scope for them and a reason, audited in both services.
        if (reason !== undefined && !request.key.scopes.includes('conversations:read-texts')) throw new ScopeMissingError('conversations:read-texts');
        const c = await findConversation(deps, request, conversationId);
        // Steps are kept per customer: a conversation whose customer is not known yet has none to show.
        const history = c.customerId
          ? await deps.customers.history({
              customerId: c.customerId,
              conversationId,
              pageSize: 200,
              pageToken: '',
              channel: 0,
              reason: keyNamed(request, reason ?? 'conversation read'),
              withContents: reason !== undefined,
            })
          : { entries: [] };
        const audit = { conversationId, ...(c.customerId ? { customerId: c.customerId } : {}), ...(reason ? { reason } : {}) };
        return { status: 200, body: conversationDetail(c, history.entries, reason !== undefined), audit };
      },
    },
  ];
}
