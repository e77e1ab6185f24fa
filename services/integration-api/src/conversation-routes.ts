// Reading conversations: routing holds their live state (where each is, with whom, its SLA),
// customer-record their steps (the history it projected from the events). A conversation is
// read as a service reads it: no subject, no message texts (customer-record gives a service
// none), so the scope conversations:read needs no reason; customer-record still audits the
// history read, naming the key. With a reason and the scope conversations:read-texts the
// steps carry their texts and subjects.
import type { Backends } from './backends';
import type { ConversationBackend } from './conversation-backends';
import { conversationIdOf, conversationListQuery, conversationQuery, listRequest } from './conversation-requests';
import { conversationDetail, conversationView } from './conversation-views';
import { ScopeMissingError } from './problems';
import { queryOf } from './query';
import type { ApiRoute } from './route-types';

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
        const { reason } = queryOf(conversationQuery, request);
        // Texts are customer data: only with the scope for them and a reason, audited in both services.
        if (reason !== undefined && !request.key.scopes.includes('conversations:read-texts')) throw new ScopeMissingError('conversations:read-texts');
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
              reason: `API key ${request.key._id} (${request.key.application}): ${reason ?? 'conversation read'}`.slice(0, 500),
              withContents: reason !== undefined,
            })
          : { entries: [] };
        const audit = { conversationId, ...(c.customerId ? { customerId: c.customerId } : {}), ...(reason ? { reason } : {}) };
        return { status: 200, body: conversationDetail(c, history.entries, reason !== undefined), audit };
      },
    },
  ];
}
