// Reading conversations: routing holds their live state (where each is, with whom, its SLA),
// customer-record their steps (the history it projected from the events). A conversation is
// read as a service reads it: no subject, no message texts (customer-record gives a service
// none), so the scope conversations:read needs no reason; customer-record still audits the
// history read, naming the key.
import type { Backends } from './backends';
import type { ConversationBackend } from './conversation-backends';
import { conversationIdOf, conversationListQuery, listRequest } from './conversation-requests';
import { conversationDetail, conversationView } from './conversation-views';
import { InvalidRequestError } from './problems';
import { queryOf } from './reads';
import type { ApiRequest, ApiRoute } from './route-types';

export function conversationReadRoutes(deps: { conversations: ConversationBackend; customers: Pick<Backends, 'history'> }): ApiRoute[] {
  return [
    {
      method: 'GET',
      path: '/v1/conversations',
      scope: 'conversations:read',
      async handle(request) {
        const q = queryOf(conversationListQuery, request);
        const page = await deps.conversations.list(listRequest(q));
        return { status: 200, body: { conversations: page.conversations.map(conversationView), nextCursor: page.nextPageToken || null } };
      },
    },
    {
      method: 'GET',
      path: '/v1/conversations/{conversationId}',
      scope: 'conversations:read',
      async handle(request) {
        const conversationId = conversationIdOf(request.params);
        noQuery(request);
        const { conversation } = await deps.conversations.get(conversationId);
        const c = conversation!;
        // Steps are kept per customer: a conversation whose customer is not known yet has none to show.
        const history = c.customerId
          ? await deps.customers.history({
              customerId: c.customerId,
              conversationId,
              pageSize: 200,
              pageToken: '',
              channel: 0,
              reason: `API key ${request.key._id} (${request.key.application}): conversation read`,
            })
          : { entries: [] };
        return { status: 200, body: conversationDetail(c, history.entries), audit: { conversationId, ...(c.customerId ? { customerId: c.customerId } : {}) } };
      },
    },
  ];
}

function noQuery(request: ApiRequest): void {
  const names = [...request.query.keys()];
  if (names.length) throw new InvalidRequestError(`unknown query parameter ${names[0]}`, [{ field: names[0]!, message: 'not a parameter of this route' }]);
}
