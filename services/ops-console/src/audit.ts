// Who replayed which dead letter, and when: one document per replay, written before the record
// is produced and completed after, so a replay that failed half-way is still on record.
import { randomUUID } from 'node:crypto';
import type { Collection, Db } from 'mongodb';

export interface ReplayAuditEntry {
  _id: string;
  by: string;
  role: string;
  at: Date;
  deadLetter: { partition: number; offset: string };
  original: { topic: string; partition?: number; offset?: string };
  key: string | null;
  ceId?: string;
  sha256: string;
  outcome: 'requested' | 'replayed' | 'failed';
  error?: string;
  completedAt?: Date;
}

export class ReplayAudit {
  readonly entries: Collection<ReplayAuditEntry>;

  constructor(db: Db, collection = 'ops_dlq_replays') {
    this.entries = db.collection<ReplayAuditEntry>(collection);
  }

  async begin(entry: Omit<ReplayAuditEntry, '_id' | 'at' | 'outcome'>, at = new Date()): Promise<string> {
    const _id = randomUUID();
    await this.entries.insertOne({ ...entry, _id, at, outcome: 'requested' });
    return _id;
  }

  async complete(id: string, outcome: 'replayed' | 'failed', error?: string): Promise<void> {
    await this.entries.updateOne({ _id: id }, { $set: { outcome, completedAt: new Date(), ...(error ? { error: error.slice(0, 500) } : {}) } });
  }

  /** Recent replays, newest first. */
  async recent(limit = 500): Promise<ReplayAuditEntry[]> {
    return this.entries.find({}).sort({ at: -1 }).limit(limit).toArray();
  }
}
