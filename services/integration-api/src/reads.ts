// The read endpoints: queue figures from routing, a customer and their history from
// customer-record. A customer is read as a supervisor reads one at the desk: with a reason, which
// customer-record audits with the key's id beside this service's own audit entry; what the
// integration API may see is what customer-record gives a service (no message texts).
import { z } from 'zod';
import type { Backends } from './backends';
import { InvalidRequestError } from './problems';
import { cursor, CUSTOMER_ID, decodeCursor, encodeCursor, limit, queryOf, reason } from './query';
import type { ApiRoute } from './route-types';
import { customerView, historyView, queueView } from './views';

const queueQuery = z.object({ limit: limit(200, 50), cursor }).strict();
const customerQuery = z
  .object({
    reason: reason('the customer is read'),
    limit: limit(200, 20),
    cursor,
  })
  .strict();

export function readRoutes(backends: Backends): ApiRoute[] {
  return [
    {
      method: 'GET',
      path: '/v1/queues',
      scope: 'queues:read',
      async handle(request) {
        const q = queryOf(queueQuery, request);
        const after = q.cursor ? decodeCursor(q.cursor) : '';
        const queues = (await backends.queueStats()).sort((a, b) => (a.queue < b.queue ? -1 : a.queue > b.queue ? 1 : 0)).filter((s) => s.queue > after);
        const page = queues.slice(0, q.limit);
        const more = queues.length > page.length;
        return { status: 200, body: { queues: page.map(queueView), nextCursor: more ? encodeCursor(page.at(-1)!.queue) : null } };
      },
    },
    {
      method: 'GET',
      path: '/v1/customers/{customerId}',
      scope: 'customers:read',
      async handle(request) {
        const customerId = request.params.customerId!;
        if (!CUSTOMER_ID.test(customerId)) throw new InvalidRequestError('customerId must be 1-128 letters, digits or _.:@-');
        const q = queryOf(customerQuery, request);
        // customer-record keeps this reason in its audit log: it names the key, which its audit cannot otherwise know.
        const reason = `API key ${request.key._id} (${request.key.application}): ${q.reason}`.slice(0, 500);
        const audit = { customerId, reason: q.reason };
        const { customer } = await backends.customer({ customerId, conversationId: '', reason });
        const history = await backends.history({
          customerId,
          pageSize: q.limit,
          pageToken: q.cursor ?? '',
          channel: 0,
          conversationId: '',
          reason,
          withContents: false,
        });
        return {
          status: 200,
          body: { customer: customerView(customer!), history: { entries: history.entries.map(historyView), nextCursor: history.nextPageToken || null } },
          audit,
        };
      },
    },
  ];
}
