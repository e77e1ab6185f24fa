// Which events were handled already, by ce_id, so a record delivered again is skipped.

/** Remembers handled event ids. Services with a store can keep them there to survive restarts. */
export interface DedupStore {
  has(id: string): boolean | Promise<boolean>;
  add(id: string): void | Promise<void>;
}

/** Bounded in-memory memory of recent ids, oldest forgotten first. */
export class RecentIds implements DedupStore {
  private readonly ids = new Set<string>();
  constructor(private readonly capacity = 200_000) {}
  has(id: string): boolean {
    return this.ids.has(id);
  }
  add(id: string): void {
    this.ids.add(id);
    if (this.ids.size > this.capacity) this.ids.delete(this.ids.values().next().value as string);
  }
}
