// Webhook subscriptions in the store, each its application's alone: made, listed, read, rotated
// and deleted through the API, and read whole (a small collection: a few per application) by
// every instance once a second, for the consumer to know who wants which event.
import { randomBytes } from 'node:crypto';
import type { Collection, Db } from 'mongodb';
import type { EventType, WebhookEvent } from './events';
import { newSecret } from './signing';

export interface Subscription {
  _id: string;
  application: string;
  url: string;
  eventTypes: EventType[];
  description: string;
  /** The signing secret (`whsec_…`). Kept as it is: signing needs it, unlike an API key's, which is only checked. */
  secret: string;
  /** After a rotation, the secret before it, still signed with until `previousSecretUntil`. */
  previousSecret?: string;
  previousSecretUntil?: Date;
  createdAt: Date;
  /** The API key that made it. */
  createdBy: string;
}

export class SubscriptionLimitError extends Error {
  constructor(readonly limit: number) {
    super(`an application may have at most ${limit} webhook subscriptions; delete one first`);
    this.name = 'SubscriptionLimitError';
  }
}

const newId = () => `wh_${[...randomBytes(16)].map((b) => 'abcdefghijklmnopqrstuvwxyz0123456789'[b % 36]).join('')}`;

export class SubscriptionStore {
  readonly subscriptions: Collection<Subscription>;

  constructor(
    db: Db,
    private readonly maxPerApplication: number,
  ) {
    this.subscriptions = db.collection('webhook_subscriptions');
  }

  /** The limit is checked by a count, so two made at the same moment may pass it by one. */
  async create(input: Pick<Subscription, 'application' | 'url' | 'eventTypes' | 'description' | 'createdBy'>, now: Date): Promise<Subscription> {
    if ((await this.subscriptions.countDocuments({ application: input.application })) >= this.maxPerApplication)
      throw new SubscriptionLimitError(this.maxPerApplication);
    const subscription: Subscription = { _id: newId(), ...input, secret: newSecret(), createdAt: now };
    await this.subscriptions.insertOne(subscription);
    return subscription;
  }

  /** The application's subscription, or null when there is none of that id for it (another's is none). */
  async get(application: string, id: string): Promise<Subscription | null> {
    const found = await this.subscriptions.findOne({ _id: id });
    return found?.application === application ? found : null;
  }

  /** A page in id order after `after`; one more than `limit` says there is a next page. */
  async page(application: string, after: string, limit: number): Promise<Subscription[]> {
    return this.subscriptions
      .find({ application, _id: { $gt: after } })
      .sort({ _id: 1 })
      .limit(limit + 1)
      .toArray();
  }

  async remove(application: string, id: string): Promise<boolean> {
    if (!(await this.get(application, id))) return false;
    return (await this.subscriptions.deleteOne({ _id: id, application })).deletedCount === 1;
  }

  /** A new secret; the one before it is still signed with for `overlapMs`, so receivers can switch without losing deliveries. */
  async rotate(subscription: Subscription, overlapMs: number, now: Date): Promise<Subscription> {
    const rotated: Subscription = {
      ...subscription,
      secret: newSecret(),
      previousSecret: subscription.secret,
      previousSecretUntil: new Date(now.getTime() + overlapMs),
    };
    // One writer in practice: the application's own key, one rotation at a time.
    await this.subscriptions.updateOne(
      { _id: subscription._id },
      { $set: { secret: rotated.secret, previousSecret: rotated.previousSecret!, previousSecretUntil: rotated.previousSecretUntil! } },
    );
    return rotated;
  }

  async all(): Promise<Subscription[]> {
    return this.subscriptions.find({}).toArray();
  }
}

/** The secrets an attempt is signed with at `now`: the current one, and a rotated one while it is honoured. */
export function signingSecrets(s: Subscription, now: Date): string[] {
  return s.previousSecret && s.previousSecretUntil && s.previousSecretUntil > now ? [s.secret, s.previousSecret] : [s.secret];
}

/** Every subscription, read again when older than `maxAgeMs`: what the consumer matches events against. */
export class SubscriptionCache {
  private byId = new Map<string, Subscription>();
  private readAt = 0;
  private reading?: Promise<void>;

  constructor(
    private readonly store: Pick<SubscriptionStore, 'all'>,
    private readonly maxAgeMs = 1000,
  ) {}

  /** Reads them again if the copy is older than allowed; a store failure is the caller's (the consumer waits on it). */
  async fresh(): Promise<void> {
    if (Date.now() - this.readAt < this.maxAgeMs) return;
    this.reading ??= this.store
      .all()
      .then((all) => {
        this.byId = new Map(all.map((s) => [s._id, s]));
        this.readAt = Date.now();
      })
      .finally(() => (this.reading = undefined));
    await this.reading;
  }

  /** A change made on this instance is seen by its consumer at once. */
  forget(): void {
    this.readAt = 0;
  }

  get(id: string): Subscription | undefined {
    return this.byId.get(id);
  }

  /** The subscriptions that receive the event: those to its type, and for an application's own event only that application's. */
  matching(event: WebhookEvent): Subscription[] {
    return [...this.byId.values()].filter((s) => s.eventTypes.includes(event.type) && (!event.application || s.application === event.application));
  }
}
