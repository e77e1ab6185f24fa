// How far a service's store has applied cc.erasure.v1, so that a start applies only the erasures
// that are new to the store instead of looking through everything it holds once more. Kept per
// partition as the next offset not yet applied, as a consumer group's commit would be, in the
// service's own database; instances of one service share it, as they share the store.
import type { Collection, Db } from 'mongodb';
import type { ReadNotice } from './reader';

/** Next offset to apply, per partition of the topic. */
export type AppliedPositions = ReadonlyMap<number, bigint>;

/** Where a store notes how far it applied the topic. */
export interface AppliedErasures {
  load(): Promise<AppliedPositions>;
  /** Notes the positions after a batch applied; a position is never moved back, unless `anew` (the topic was made anew). */
  save(positions: AppliedPositions, anew?: boolean): Promise<void>;
}

/** What a start still has to apply, or everything when the store is ahead of the topic (a topic made anew). */
export function unapplied(
  notices: readonly ReadNotice[],
  applied: AppliedPositions,
  ends: ReadonlyMap<number, bigint>,
): { notices: ReadNotice[]; topicRemade: boolean } {
  const topicRemade = [...applied].some(([partition, next]) => next > (ends.get(partition) ?? 0n));
  if (topicRemade) return { notices: [...notices], topicRemade };
  return { notices: notices.filter((n) => n.offset >= (applied.get(n.partition) ?? 0n)), topicRemade };
}

/** The next offset after each partition's last notice. */
export function positionsAfter(notices: readonly ReadNotice[]): Map<number, bigint> {
  const next = new Map<number, bigint>();
  for (const n of notices) if (n.offset + 1n > (next.get(n.partition) ?? 0n)) next.set(n.partition, n.offset + 1n);
  return next;
}

interface AppliedDoc {
  _id: string;
  /** Partition → next offset (offsets stay far below 2^53). */
  next: Record<string, number>;
}

/** The positions in the collection `erasures_applied`, one document per service (`_id` its name). */
export class StoredAppliedErasures implements AppliedErasures {
  private readonly docs: Collection<AppliedDoc>;

  constructor(
    db: Db,
    private readonly service: string,
  ) {
    this.docs = db.collection<AppliedDoc>('erasures_applied');
  }

  async load(): Promise<AppliedPositions> {
    const doc = await this.docs.findOne({ _id: this.service });
    return new Map(Object.entries(doc?.next ?? {}).map(([p, n]) => [Number(p), BigInt(n)]));
  }

  async save(positions: AppliedPositions, anew = false): Promise<void> {
    if (anew) {
      await this.docs.replaceOne({ _id: this.service }, { next: Object.fromEntries([...positions].map(([p, n]) => [String(p), Number(n)])) }, { upsert: true });
      return;
    }
    if (positions.size === 0) return;
    const max = Object.fromEntries([...positions].map(([p, n]) => [`next.${p}`, Number(n)]));
    // $max: two instances saving at once never move a position back; were the store to lose one of
    // the two writes, a start would only apply a batch again, which deletes nothing more.
    await this.docs.updateOne({ _id: this.service }, { $max: max }, { upsert: true });
  }
}
