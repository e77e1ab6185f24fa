// In-process cache of customer contexts. Every write this process makes (projection of
// events, flags, merges, accounts) drops the affected entries at once; the short time-to-live
// bounds how stale a context can be when another instance made the change.
export class ContextCache<V> {
  private readonly byCustomer = new Map<string, Map<string, { value: V; expires: number }>>();
  /** Bumped by every invalidation: a read that started before one must not store what it read. */
  private generation = 0;

  constructor(
    private readonly ttlMs: number,
    private readonly capacity = 50_000,
  ) {}

  get(customerId: string, variant: string): V | undefined {
    const e = this.byCustomer.get(customerId)?.get(variant);
    if (!e) return undefined;
    if (e.expires < Date.now()) {
      this.byCustomer.get(customerId)?.delete(variant);
      return undefined;
    }
    return e.value;
  }

  /** Call before reading from the store; pass the result to set(). */
  begin(): number {
    return this.generation;
  }

  set(customerId: string, variant: string, value: V, startedAt: number): void {
    if (this.ttlMs <= 0 || startedAt !== this.generation) return;
    let variants = this.byCustomer.get(customerId);
    if (!variants) {
      // Oldest customer out first when full.
      if (this.byCustomer.size >= this.capacity) this.byCustomer.delete(this.byCustomer.keys().next().value as string);
      variants = new Map();
      this.byCustomer.set(customerId, variants);
    }
    variants.set(variant, { value, expires: Date.now() + this.ttlMs });
  }

  invalidate(customerIds: string[] | 'all'): void {
    this.generation++;
    if (customerIds === 'all') this.byCustomer.clear();
    else for (const id of customerIds) this.byCustomer.delete(id);
  }
}
