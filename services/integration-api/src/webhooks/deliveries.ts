// The delivery log and the due queue, in the store. Each delivery (one event for one
// subscription) is a document under its webhook-id, kept for the integrator to read and replay;
// while it waits for an attempt it also has one small document in `webhook_due`, deleted when it
// is delivered or failed, so the queue every instance reads stays as small as what is pending
// (the local store finds only by `_id` quickly: any other query reads the whole collection).
// Each attempt is claimed by an insert under `<webhook-id>#<attempt>` before it is sent, which
// exactly one instance wins, and only that instance writes the delivery and its due entry for it.
import { createHash } from 'node:crypto';
import type { Collection, Db } from 'mongodb';
import { InsertBatcher } from '#libs/store';
import { payloadOf, type EventType, type WebhookEvent } from './events';

export type DeliveryStatus = 'pending' | 'delivered' | 'failed';

export interface AttemptOutcome {
  at: Date;
  durationMs: number;
  /** The receiver's HTTP status, when it answered. */
  statusCode?: number;
  /** Why the attempt failed without an answer (timeout, refused, not a public address). */
  error?: string;
}

export interface Delivery {
  /** The webhook-id: the same for one event and one subscription on every attempt and replay. */
  _id: string;
  subscriptionId: string;
  application: string;
  eventId: string;
  eventType: EventType;
  /** The body, exactly as sent. */
  payload: string;
  recordedAt: Date;
  status: DeliveryStatus;
  attempts: number;
  /** Where the day of retries began: the first attempt, or the last replay. */
  windowStart?: Date;
  lastAttempt?: AttemptOutcome;
  nextAttemptAt?: Date | null;
  deliveredAt?: Date;
  failedAt?: Date;
  replayedAt?: Date;
}

export interface DueEntry {
  _id: string;
  subscriptionId: string;
  dueAt: Date;
  /** The number of the attempt that is due (1 for the first). */
  attempt: number;
}

interface Claim {
  _id: string;
  by: string;
  at: Date;
}

/** The webhook-id of an event for a subscription. */
function deliveryId(subscriptionId: string, eventId: string): string {
  return `msg_${createHash('sha256').update(`${subscriptionId}|${eventId}`).digest('base64url').slice(0, 27)}`;
}

/** A delivery of an event to a subscription, not tried yet, due at once. */
export function pendingDelivery(subscription: { _id: string; application: string }, event: WebhookEvent, now: Date): Delivery {
  return {
    _id: deliveryId(subscription._id, event.id),
    subscriptionId: subscription._id,
    application: subscription.application,
    eventId: event.id,
    eventType: event.type,
    payload: payloadOf(event),
    recordedAt: now,
    status: 'pending',
    attempts: 0,
    nextAttemptAt: now,
  };
}

export class DeliveryStore {
  readonly deliveries: Collection<Delivery>;
  readonly due: Collection<DueEntry>;
  private readonly claims: Collection<Claim>;
  private readonly deliveryInserts: InsertBatcher<Delivery>;
  private readonly dueInserts: InsertBatcher<DueEntry>;

  constructor(db: Db) {
    this.deliveries = db.collection('webhook_deliveries');
    this.due = db.collection('webhook_due');
    this.claims = db.collection('webhook_claims');
    this.deliveryInserts = new InsertBatcher(this.deliveries);
    this.dueInserts = new InsertBatcher(this.due);
  }

  /** Indexes a MongoDB replica set uses for the log's pages; the local store keeps them but still scans. */
  async ensureIndexes(): Promise<void> {
    await this.deliveries.createIndex({ subscriptionId: 1, recordedAt: -1, _id: -1 }, { name: 'deliveries_by_subscription' });
  }

  /**
   * Records new deliveries, each with its due entry (both at once: one round trip before the
   * first attempt), and answers the due entries to schedule with the deliveries they are for. A
   * delivery already recorded (a record consumed again after a restart) is due again only if it
   * was never attempted; for one delivered or failed, the due entry just written is taken back
   * (an instance that saw it meanwhile finds the delivery settled when it claims, and stops).
   */
  async record(deliveries: Delivery[]): Promise<{ entry: DueEntry; delivery: Delivery }[]> {
    const entries = deliveries.map((d): DueEntry => ({ _id: d._id, subscriptionId: d.subscriptionId, dueAt: d.recordedAt, attempt: 1 }));
    const [outcomes, dueOutcomes] = await Promise.all([
      Promise.all(deliveries.map((d) => this.deliveryInserts.insert(d))),
      Promise.all(entries.map((e) => this.dueInserts.insert(e))),
    ]);
    const again = deliveries.filter((_, i) => outcomes[i] === 'duplicate').map((d) => d._id);
    const settled = new Set(
      again.length ? (await this.deliveries.find({ _id: { $in: again }, attempts: { $gt: 0 } }, { projection: { _id: 1 } }).toArray()).map((d) => d._id) : [],
    );
    const takeBack = entries.filter((e, i) => settled.has(e._id) && dueOutcomes[i] === 'inserted').map((e) => e._id);
    if (takeBack.length) await this.due.deleteMany({ _id: { $in: takeBack }, attempt: 1 });
    return deliveries.flatMap((delivery, i) => (outcomes[i] === 'inserted' ? [{ entry: entries[i]!, delivery }] : []));
  }

  /** Every pending delivery's due entry (only pending ones have one). */
  async allDue(): Promise<DueEntry[]> {
    return this.due.find({}).toArray();
  }

  /**
   * Claims the entry's attempt for this instance: true when it is this instance's to send. A
   * claim older than `leaseMs` (its instance ended mid-attempt) is taken over.
   */
  async claim(entry: DueEntry, by: string, leaseMs: number, now: Date): Promise<boolean> {
    const _id = `${entry._id}#${entry.attempt}`;
    for (let tries = 0; tries < 2; tries++) {
      try {
        await this.claims.insertOne({ _id, by, at: now });
        return true;
      } catch (err) {
        if ((err as { code?: number }).code !== 11000) throw err;
      }
      const held = await this.claims.findOne({ _id });
      if (held && now.getTime() - held.at.getTime() < leaseMs) return false;
      if (held) await this.claims.deleteOne({ _id, at: held.at });
    }
    return false;
  }

  async release(entry: DueEntry): Promise<void> {
    await this.claims.deleteOne({ _id: `${entry._id}#${entry.attempt}` });
  }

  /** The entry as the store has it now, and its delivery. */
  async current(id: string): Promise<{ due: DueEntry | null; delivery: Delivery | null }> {
    const [due, delivery] = await Promise.all([this.due.findOne({ _id: id }), this.deliveries.findOne({ _id: id })]);
    return { due, delivery };
  }

  async delivered(d: Delivery, outcome: AttemptOutcome, windowStart: Date): Promise<void> {
    // The log first: a due entry left behind finds its delivery settled and is dropped.
    await this.deliveries.updateOne(
      { _id: d._id },
      { $set: { status: 'delivered', attempts: d.attempts + 1, lastAttempt: outcome, deliveredAt: outcome.at, nextAttemptAt: null, windowStart } },
    );
    await this.due.deleteOne({ _id: d._id });
  }

  async retryLater(d: Delivery, outcome: AttemptOutcome, windowStart: Date, next: DueEntry): Promise<void> {
    await this.deliveries.updateOne({ _id: d._id }, { $set: { attempts: d.attempts + 1, lastAttempt: outcome, nextAttemptAt: next.dueAt, windowStart } });
    await this.due.updateOne({ _id: d._id }, { $set: { dueAt: next.dueAt, attempt: next.attempt } });
  }

  /** Given up: after a day of attempts, or its subscription was deleted (no outcome then). */
  async failed(d: Delivery, at: Date, outcome?: AttemptOutcome, windowStart?: Date): Promise<void> {
    const set: Partial<Delivery> = { status: 'failed', failedAt: at, nextAttemptAt: null };
    if (outcome) Object.assign(set, { attempts: d.attempts + 1, lastAttempt: outcome, windowStart });
    await this.deliveries.updateOne({ _id: d._id }, { $set: set });
    await this.due.deleteOne({ _id: d._id });
  }

  async dropDue(id: string): Promise<void> {
    await this.due.deleteOne({ _id: id });
  }

  async get(subscriptionId: string, id: string): Promise<Delivery | null> {
    const found = await this.deliveries.findOne({ _id: id });
    return found?.subscriptionId === subscriptionId ? found : null;
  }

  /** A page of the log, newest first, after the cursor's position. */
  async page(subscriptionId: string, q: { status?: DeliveryStatus; after?: { recordedAt: Date; id: string }; limit: number }): Promise<Delivery[]> {
    const filter: Record<string, unknown> = { subscriptionId };
    if (q.status) filter.status = q.status;
    if (q.after) filter.$or = [{ recordedAt: { $lt: q.after.recordedAt } }, { recordedAt: q.after.recordedAt, _id: { $lt: q.after.id } }];
    return this.deliveries
      .find(filter, { projection: { payload: 0 } })
      .sort({ recordedAt: -1, _id: -1 })
      .limit(q.limit + 1)
      .toArray();
  }

  /**
   * Sends a delivered or failed delivery again, under the same webhook-id, with a new day of
   * retries; a pending one is already on its way and is left alone. Answers the due entry.
   */
  async replay(d: Delivery, now: Date): Promise<DueEntry | undefined> {
    if (d.status === 'pending') return undefined;
    // Not pending: no attempt is under way, so no other writer touches it (two replays write the same).
    await this.deliveries.updateOne({ _id: d._id }, { $set: { status: 'pending', replayedAt: now, nextAttemptAt: now, windowStart: now } });
    const entry: DueEntry = { _id: d._id, subscriptionId: d.subscriptionId, dueAt: now, attempt: d.attempts + 1 };
    await this.dueInserts.insert(entry);
    return entry;
  }

  /** The subscription's delivered and failed deliveries recorded since `since`, oldest first, at most `limit`. */
  async settledSince(subscriptionId: string, since: Date, limit: number): Promise<Delivery[]> {
    return this.deliveries
      .find({ subscriptionId, recordedAt: { $gte: since }, status: { $ne: 'pending' } }, { projection: { payload: 0 } })
      .sort({ recordedAt: 1 })
      .limit(limit)
      .toArray();
  }

  /** Drops settled deliveries recorded before `before` (the log's retention). */
  async prune(before: Date): Promise<number> {
    return (await this.deliveries.deleteMany({ recordedAt: { $lt: before }, status: { $ne: 'pending' } })).deletedCount;
  }
}
