// The read endpoints: queue figures from routing, a customer and their history from
// customer-record. A customer is read as a supervisor reads one at the desk: with a reason, which
// customer-record audits with the key's id beside this service's own audit entry; what the
// integration API may see is what customer-record gives a service (no message texts).
import { z } from 'zod';
import type { Backends } from './backends';
import { chars } from './contact-request';
import { InvalidRequestError } from './problems';
import type { ApiRequest, ApiRoute } from './route-types';
import { zodProblem } from './validation';
import { customerView, historyView, queueView } from './views';

const CUSTOMER_ID = /^[A-Za-z0-9_.:@-]{1,128}$/;
// At least one character that is not a space, as openapi.json says.
const REASON = /^[^\x00-\x1f\x7f]*[^\x00-\x20\x7f][^\x00-\x1f\x7f]*$/;

export const limit = (max: number, dflt: number) =>
  z
    .string()
    .regex(/^[0-9]{1,3}$/, `limit: a whole number 1-${max}`)
    .transform(Number)
    .pipe(z.number().min(1, `limit: a whole number 1-${max}`).max(max, `limit: a whole number 1-${max}`))
    .default(dflt);
export const cursor = z
  .string()
  .regex(/^[A-Za-z0-9_-]{1,200}$/, 'cursor: a value from nextCursor')
  .optional();

const queueQuery = z.object({ limit: limit(200, 50), cursor }).strict();
const customerQuery = z
  .object({
    reason: chars(500, REASON, 'reason: plain text on one line').refine(
      (r) => [...r].length >= 3,
      'reason: say in a few words why the customer is read (3-500 characters)',
    ),
    limit: limit(200, 20),
    cursor,
  })
  .strict();

export function queryOf<T>(schema: z.ZodType<T>, request: ApiRequest): T {
  const fields: Record<string, string> = {};
  for (const [name, value] of request.query) {
    if (name in fields) throw new InvalidRequestError(`query parameter ${name} is given more than once`);
    fields[name] = value;
  }
  const parsed = schema.safeParse(fields);
  if (!parsed.success) throw zodProblem(parsed.error);
  return parsed.data;
}

const encodeCursor = (last: string) => Buffer.from(last).toString('base64url');
const decodeCursor = (c: string) => Buffer.from(c, 'base64url').toString('utf8');

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
