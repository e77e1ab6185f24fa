// The delivery loop: sends what is due, apart from the Kafka consumer, so no endpoint can hold
// the pipeline. Due entries live in memory (a timer for the earliest), filled by this
// instance's consumer at once and by a scan of the store's due queue every few seconds (what
// other instances recorded or rescheduled, and what an ended instance left). Each subscription
// has at most `perSubscription` attempts in flight on an instance, all subscriptions together
// `maxInFlight`: a slow or dead endpoint ties up only its own share, and the others' deliveries
// go past it. Every attempt is claimed in the store first, so two instances never send it both.
import type { Logger } from '#libs/observability';
import { errorDetails } from '#libs/observability';
import type { AttemptOutcome, Delivery, DeliveryStore, DueEntry } from './deliveries';
import { nextAttemptAt, type RetrySchedule } from './schedule';
import type { Send } from './sender';
import { signedHeaders } from './signing';
import { signingSecrets, type Subscription } from './subscriptions';

export interface DispatcherDeps {
  store: DeliveryStore;
  /** The subscription, from the cache or the store; undefined once it was deleted. */
  subscription(id: string): Promise<Subscription | undefined>;
  send: Send;
  schedule: RetrySchedule;
  instanceId: string;
  perSubscription: number;
  maxInFlight: number;
  scanMs: number;
  /** How old a claim must be before another instance may take it over (its holder ended mid-attempt). */
  leaseMs: number;
  logger: Logger;
  /** Told each attempt's outcome (metrics). */
  attempted?: (outcome: 'delivered' | 'retry' | 'failed', durationMs: number) => void;
  now?: () => Date;
}

export class DeliveryDispatcher {
  private readonly waiting = new Map<string, DueEntry>();
  /** Deliveries this instance just recorded, with their first attempt due: no need to read them back. */
  private readonly fresh = new Map<string, Delivery>();
  private readonly sending = new Set<string>();
  private readonly perSubscription = new Map<string, number>();
  private timer?: NodeJS.Timeout;
  private scanner?: NodeJS.Timeout;
  private stopped = false;
  private readonly now: () => Date;

  constructor(private readonly deps: DispatcherDeps) {
    this.now = deps.now ?? (() => new Date());
  }

  start(): void {
    this.stopped = false;
    void this.scan();
    this.scanner = setInterval(() => void this.scan(), this.deps.scanMs);
  }

  /** Stops starting attempts and waits (a little) for those under way. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.scanner);
    clearTimeout(this.timer);
    const until = Date.now() + 5000;
    while (this.sending.size > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
  }

  /** Entries this instance just recorded or replayed: sent without waiting for the next scan. */
  schedule(items: { entry: DueEntry; delivery?: Delivery }[]): void {
    for (const { entry, delivery } of items) {
      this.keep(entry);
      if (delivery) this.fresh.set(entry._id, delivery);
    }
    this.kick();
  }

  get pending(): number {
    return this.waiting.size;
  }

  private forget(id: string): void {
    this.waiting.delete(id);
    this.fresh.delete(id);
  }

  private keep(entry: DueEntry): void {
    const known = this.waiting.get(entry._id);
    if (!known || known.attempt <= entry.attempt) this.waiting.set(entry._id, entry);
  }

  /** Makes the in-memory queue the store's: adds what others recorded, forgets what others finished. */
  private async scan(): Promise<void> {
    let stored: DueEntry[];
    try {
      stored = await this.deps.store.allDue();
    } catch (err) {
      this.deps.logger.warn(errorDetails(err), 'webhook due queue not read; trying again at the next scan');
      return;
    }
    const ids = new Set(stored.map((e) => e._id));
    for (const id of this.waiting.keys()) if (!ids.has(id) && !this.sending.has(id)) this.forget(id);
    for (const e of stored) if (!this.sending.has(e._id)) this.keep(e);
    this.kick();
  }

  /** Starts every due attempt there is room for, and sets the timer for the next one. */
  private kick(): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    const now = this.now().getTime();
    let next = Infinity;
    const due = [...this.waiting.values()].filter((e) => !this.sending.has(e._id)).sort((a, b) => a.dueAt.getTime() - b.dueAt.getTime());
    for (const entry of due) {
      const at = entry.dueAt.getTime();
      if (at > now) {
        next = Math.min(next, at);
        break;
      }
      if (this.sending.size >= this.deps.maxInFlight) break;
      if ((this.perSubscription.get(entry.subscriptionId) ?? 0) >= this.deps.perSubscription) continue;
      this.begin(entry);
    }
    if (next < Infinity) this.timer = setTimeout(() => this.kick(), Math.min(next - now, 2_147_000_000));
  }

  private begin(entry: DueEntry): void {
    this.sending.add(entry._id);
    this.perSubscription.set(entry.subscriptionId, (this.perSubscription.get(entry.subscriptionId) ?? 0) + 1);
    let slotFreed = false;
    // The subscription's slot is its endpoint's: freed once the answer is in, before the outcome is written.
    const freeSlot = () => {
      if (slotFreed) return;
      slotFreed = true;
      const left = (this.perSubscription.get(entry.subscriptionId) ?? 1) - 1;
      if (left > 0) this.perSubscription.set(entry.subscriptionId, left);
      else this.perSubscription.delete(entry.subscriptionId);
      this.kick();
    };
    void this.attempt(entry, freeSlot)
      .catch((err: unknown) => {
        // The store failed mid-way: the entry stays in the due queue and comes back with a scan.
        this.deps.logger.warn({ deliveryId: entry._id, ...errorDetails(err) }, 'webhook attempt not recorded; it will be tried again');
        this.forget(entry._id);
      })
      .finally(() => {
        this.sending.delete(entry._id);
        freeSlot();
        this.kick();
      });
  }

  private async attempt(entry: DueEntry, answered: () => void): Promise<void> {
    const { store } = this.deps;
    if (!(await store.claim(entry, this.deps.instanceId, this.deps.leaseMs, this.now()))) {
      this.forget(entry._id);
      return;
    }
    try {
      const delivery = await this.pendingDelivery(entry);
      if (!delivery) return;
      const subscription = await this.deps.subscription(delivery.subscriptionId);
      if (!subscription) {
        await store.failed(delivery, this.now());
        this.forget(entry._id);
        return;
      }
      await this.sendAndRecord(entry, delivery, subscription, answered);
    } finally {
      await store.release(entry);
    }
  }

  /** The delivery whose attempt this claim is for, if that attempt is still to be made. */
  private async pendingDelivery(entry: DueEntry): Promise<Delivery | undefined> {
    const fresh = this.fresh.get(entry._id);
    this.fresh.delete(entry._id);
    if (fresh && entry.attempt === 1) return fresh;
    const { due, delivery } = await this.deps.store.current(entry._id);
    if (due && due.attempt === entry.attempt && delivery?.status === 'pending') return delivery;
    // Another instance made this attempt before the claim (this copy was stale), or the entry outlived its delivery.
    if (due && due.attempt > entry.attempt) this.keep(due);
    else this.forget(entry._id);
    if (due && due.attempt === entry.attempt && (delivery || this.now().getTime() - due.dueAt.getTime() > this.deps.leaseMs))
      await this.deps.store.dropDue(entry._id);
    return undefined;
  }

  private async sendAndRecord(entry: DueEntry, delivery: Delivery, subscription: Subscription, answered: () => void): Promise<void> {
    const at = this.now();
    const result = await this.deps.send(
      subscription.url,
      signedHeaders(signingSecrets(subscription, at), delivery._id, at, delivery.payload),
      delivery.payload,
    );
    answered();
    const outcome: AttemptOutcome = { at, durationMs: result.durationMs };
    if (result.statusCode !== undefined) outcome.statusCode = result.statusCode;
    if (result.error) outcome.error = result.error.slice(0, 300);
    const windowStart = delivery.windowStart ?? at;
    const { store } = this.deps;
    if (result.ok) {
      await store.delivered(delivery, outcome, windowStart);
      this.forget(entry._id);
      this.deps.attempted?.('delivered', result.durationMs);
      return;
    }
    const retryAt = nextAttemptAt(this.deps.schedule, windowStart, delivery.attempts + 1, this.now());
    if (!retryAt) {
      await store.failed(delivery, this.now(), outcome, windowStart);
      this.forget(entry._id);
      this.deps.attempted?.('failed', result.durationMs);
      return;
    }
    const next: DueEntry = { ...entry, dueAt: retryAt, attempt: entry.attempt + 1 };
    await store.retryLater(delivery, outcome, windowStart, next);
    this.waiting.set(entry._id, next);
    this.deps.attempted?.('retry', result.durationMs);
  }
}
