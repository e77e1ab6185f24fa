// One queue: conversations ordered by a static key. Ageing is linear in waiting time for every
// entry alike, so "priority points + waited / ageing step" orders the same as
// "points × ageing step − enqueued at": the key never changes while an entry waits, and an
// old low-priority entry overtakes newer high-priority ones, so nothing starves.
export interface QueueEntry {
  id: string;
  key: number;
}

export class ConversationQueue<E extends QueueEntry = QueueEntry> {
  /** Highest key first. */
  readonly entries: E[] = [];

  constructor(readonly name: string) {}

  get length(): number {
    return this.entries.length;
  }

  insert(entry: E): void {
    const a = this.entries;
    const key = entry.key;
    let lo = 0;
    let hi = a.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (a[mid]!.key >= key) lo = mid + 1;
      else hi = mid;
    }
    // Most arrivals are the least urgent so far: they go at the end.
    if (lo === a.length) a.push(entry);
    else a.splice(lo, 0, entry);
  }

  remove(id: string): boolean {
    const i = this.indexOf(id);
    if (i < 0) return false;
    this.entries.splice(i, 1);
    return true;
  }

  /** 1-based position, 0 when absent. */
  position(id: string): number {
    return this.indexOf(id) + 1;
  }

  private indexOf(id: string): number {
    const a = this.entries;
    for (let i = 0; i < a.length; i++) if (a[i]!.id === id) return i;
    return -1;
  }

  /** A key that puts an entry in front of everything now waiting. */
  frontKey(): number {
    return (this.entries[0]?.key ?? 0) + 1e12;
  }
}
