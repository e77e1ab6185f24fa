// The webhook endpoints (scope webhooks:manage): an application's subscriptions, made, listed,
// read, rotated and deleted, and their delivery log, read and replayed. An application sees only
// its own: another's subscription is "not found", as one that never was.
import { z } from 'zod';
import { chars } from '../contact-request';
import { cursor as cursorParam, decodeCursor, encodeCursor, limit, queryOf } from '../query';
import { ApiProblem, InvalidRequestError, NotFoundProblem } from '../problems';
import type { ApiRequest, ApiRoute } from '../route-types';
import { zodProblem } from '../validation';
import type { Delivery, DeliveryStore, DueEntry } from './deliveries';
import { EVENT_TYPES } from './events';
import { SubscriptionLimitError, type SubscriptionCache, type SubscriptionStore } from './subscriptions';
import { checkTargetResolves, checkTargetUrl, MAX_URL_LENGTH, TargetRefusedError } from './targets';
import { deliveryDetail, deliveryView, subscriptionView } from './views';

export interface WebhookRouteDeps {
  subscriptions: SubscriptionStore;
  cache: Pick<SubscriptionCache, 'forget'>;
  deliveries: DeliveryStore;
  /** Sends replayed deliveries without waiting for the next scan. */
  replayed(items: { entry: DueEntry }[]): void;
  allowPrivateTargets: boolean;
  /** How long a rotated secret is still signed with. */
  rotationOverlapMs: number;
  now?: () => Date;
}

class SubscriptionLimitProblem extends ApiProblem {
  constructor(detail: string) {
    super(409, 'webhook-limit', 'Too many webhook subscriptions', detail);
  }
}

const DESCRIPTION = /^[^\x00-\x1f\x7f]*$/;
const createSchema = z
  .object({
    url: z.string().refine((u) => [...u].length <= MAX_URL_LENGTH, `url: at most ${MAX_URL_LENGTH} characters`),
    eventTypes: z
      .array(z.enum(EVENT_TYPES, { message: `eventTypes: each one of ${EVENT_TYPES.join(', ')}` }))
      .min(1, 'eventTypes: at least one')
      .max(EVENT_TYPES.length)
      .refine((types) => new Set(types).size === types.length, 'eventTypes: each at most once'),
    description: chars(200, DESCRIPTION, 'description: plain text on one line').optional(),
  })
  .strict();
const replaySchema = z.object({ since: z.iso.datetime({ offset: true, message: 'since: a date-time such as 2026-12-01T10:00:00Z' }) }).strict();
const listQuery = z.object({ limit: limit(100, 20), cursor: cursorParam }).strict();
const deliveryQuery = z.object({ limit: limit(100, 20), cursor: cursorParam, status: z.enum(['pending', 'delivered', 'failed']).optional() }).strict();

/** At most this many deliveries are replayed by one call; the answer says where to go on from. */
const REPLAY_BATCH = 500;

function logCursor(c: string | undefined): { recordedAt: Date; id: string } | undefined {
  if (!c) return undefined;
  const m = /^(\d{1,15})\.(msg_[A-Za-z0-9_-]{27})$/.exec(decodeCursor(c));
  if (!m) throw new InvalidRequestError('cursor: a value from nextCursor', [{ field: 'cursor', message: 'a value from nextCursor' }]);
  return { recordedAt: new Date(Number(m[1])), id: m[2]! };
}

function bodyOf<T>(schema: z.ZodType<T>, body: unknown): T {
  const parsed = schema.safeParse(body);
  if (!parsed.success) throw zodProblem(parsed.error);
  return parsed.data;
}

export function webhookRoutes(deps: WebhookRouteDeps): ApiRoute[] {
  const now = deps.now ?? (() => new Date());
  const owned = async (request: ApiRequest) => {
    const id = request.params.webhookId!;
    const found = await deps.subscriptions.get(request.key.application, id);
    if (!found) throw new NotFoundProblem(`no webhook subscription ${id}`);
    return found;
  };
  const ownedDelivery = async (request: ApiRequest): Promise<Delivery> => {
    const subscription = await owned(request);
    const found = await deps.deliveries.get(subscription._id, request.params.deliveryId!);
    if (!found) throw new NotFoundProblem(`no delivery ${request.params.deliveryId} of this subscription`);
    return found;
  };
  const route = (method: ApiRoute['method'], path: string, handle: ApiRoute['handle']): ApiRoute => ({ method, path, scope: 'webhooks:manage', handle });

  return [
    route('POST', '/v1/webhooks', async (request) => {
      const body = bodyOf(createSchema, await request.body());
      try {
        const url = checkTargetUrl(body.url, deps.allowPrivateTargets);
        await checkTargetResolves(url, deps.allowPrivateTargets);
      } catch (err) {
        if (err instanceof TargetRefusedError) throw new InvalidRequestError(err.message, [{ field: 'url', message: err.message }]);
        throw err;
      }
      let created;
      try {
        created = await deps.subscriptions.create(
          { application: request.key.application, url: body.url, eventTypes: body.eventTypes, description: body.description ?? '', createdBy: request.key._id },
          now(),
        );
      } catch (err) {
        if (err instanceof SubscriptionLimitError) throw new SubscriptionLimitProblem(err.message);
        throw err;
      }
      deps.cache.forget();
      return { status: 201, body: { ...subscriptionView(created), secret: created.secret }, audit: { webhookId: created._id } };
    }),
    route('GET', '/v1/webhooks', async (request) => {
      const q = queryOf(listQuery, request);
      const found = await deps.subscriptions.page(request.key.application, q.cursor ? decodeCursor(q.cursor) : '', q.limit);
      const page = found.slice(0, q.limit);
      return { status: 200, body: { webhooks: page.map(subscriptionView), nextCursor: found.length > page.length ? encodeCursor(page.at(-1)!._id) : null } };
    }),
    route('GET', '/v1/webhooks/{webhookId}', async (request) => {
      const s = await owned(request);
      return { status: 200, body: subscriptionView(s), audit: { webhookId: s._id } };
    }),
    route('DELETE', '/v1/webhooks/{webhookId}', async (request) => {
      const s = await owned(request);
      if (!(await deps.subscriptions.remove(request.key.application, s._id))) throw new NotFoundProblem(`no webhook subscription ${s._id}`);
      deps.cache.forget();
      return { status: 204, body: '', audit: { webhookId: s._id } };
    }),
    route('POST', '/v1/webhooks/{webhookId}/rotate-secret', async (request) => {
      const rotated = await deps.subscriptions.rotate(await owned(request), deps.rotationOverlapMs, now());
      deps.cache.forget();
      return {
        status: 200,
        body: { ...subscriptionView(rotated), secret: rotated.secret, previousSecretValidUntil: rotated.previousSecretUntil!.toISOString() },
        audit: { webhookId: rotated._id },
      };
    }),
    route('GET', '/v1/webhooks/{webhookId}/deliveries', async (request) => {
      const s = await owned(request);
      const q = queryOf(deliveryQuery, request);
      const found = await deps.deliveries.page(s._id, { status: q.status, after: logCursor(q.cursor), limit: q.limit });
      const page = found.slice(0, q.limit);
      const last = page.at(-1);
      return {
        status: 200,
        body: {
          deliveries: page.map(deliveryView),
          nextCursor: found.length > page.length && last ? encodeCursor(`${last.recordedAt.getTime()}.${last._id}`) : null,
        },
        audit: { webhookId: s._id },
      };
    }),
    route('GET', '/v1/webhooks/{webhookId}/deliveries/{deliveryId}', async (request) => {
      const d = await ownedDelivery(request);
      return { status: 200, body: deliveryDetail(d), audit: { webhookId: d.subscriptionId } };
    }),
    route('POST', '/v1/webhooks/{webhookId}/deliveries/{deliveryId}/replay', async (request) => {
      const d = await ownedDelivery(request);
      const entry = await deps.deliveries.replay(d, now());
      if (entry) deps.replayed([{ entry }]);
      return { status: 202, body: { replayed: entry ? 1 : 0, alreadyPending: !entry }, audit: { webhookId: d.subscriptionId } };
    }),
    route('POST', '/v1/webhooks/{webhookId}/replay', async (request) => {
      const s = await owned(request);
      const { since } = bodyOf(replaySchema, await request.body());
      const settled = await deps.deliveries.settledSince(s._id, new Date(since), REPLAY_BATCH);
      const entries: DueEntry[] = [];
      for (const d of settled) {
        const entry = await deps.deliveries.replay(d, now());
        if (entry) entries.push(entry);
      }
      deps.replayed(entries.map((entry) => ({ entry })));
      const more = settled.length === REPLAY_BATCH;
      return {
        status: 202,
        body: { replayed: entries.length, nextSince: more ? settled.at(-1)!.recordedAt.toISOString() : null },
        audit: { webhookId: s._id },
      };
    }),
  ];
}
