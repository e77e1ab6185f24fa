// Routing's own collections: a snapshot of every conversation, agent and customer memory,
// written as decisions are made and read back at start-up. Each record is kept as JSON text
// under its id, so channel metadata keys (dots, dollars) never clash with the store's rules.
import type { Collection, Db } from 'mongodb';
import type { AgentRecord, ConversationRecord, CustomerMemory, RoutingEngine } from './core/engine';

interface SnapshotDoc {
  _id: string;
  state?: string;
  data: string;
  savedAt: Date;
}

export class RoutingStore {
  private readonly conversations: Collection<SnapshotDoc>;
  private readonly agents: Collection<SnapshotDoc>;
  private readonly customers: Collection<SnapshotDoc>;

  constructor(db: Db) {
    this.conversations = db.collection<SnapshotDoc>('routing_conversations');
    this.agents = db.collection<SnapshotDoc>('routing_agents');
    this.customers = db.collection<SnapshotDoc>('routing_customers');
  }

  async init(): Promise<void> {
    await this.conversations.createIndex({ state: 1 });
  }

  /** Everything needed to rebuild the engine; resolved and abandoned conversations are left out. */
  async load(): Promise<{ agents: AgentRecord[]; conversations: ConversationRecord[]; customers: CustomerMemory[] }> {
    const parse = <T>(docs: SnapshotDoc[]) => docs.map((d) => JSON.parse(d.data) as T);
    return {
      agents: parse<AgentRecord>(await this.agents.find({}).toArray()),
      conversations: parse<ConversationRecord>(await this.conversations.find({ state: { $nin: ['resolved', 'abandoned'] } }).toArray()),
      customers: parse<CustomerMemory>(await this.customers.find({}).toArray()),
    };
  }

  /** Writes the current state of what changed since the last save. */
  async save(engine: RoutingEngine, changed: { conversations: string[]; agents: string[]; customers: string[] }): Promise<void> {
    const savedAt = new Date();
    const ops = <T>(ids: string[], get: (id: string) => T | undefined, state?: (v: T) => string) =>
      ids.flatMap((id) => {
        const value = get(id);
        if (!value) return [];
        const doc: SnapshotDoc = { _id: id, data: JSON.stringify(value), savedAt, ...(state ? { state: state(value) } : {}) };
        return [{ replaceOne: { filter: { _id: id }, replacement: doc, upsert: true } }];
      });
    const writes: Promise<unknown>[] = [];
    const c = ops(changed.conversations, (id) => engine.conversations.get(id), (v) => v.state);
    const a = ops(changed.agents, (id) => engine.agents.get(id));
    const m = ops(changed.customers, (id) => engine.customers.get(id));
    if (c.length) writes.push(this.conversations.bulkWrite(c, { ordered: false }));
    if (a.length) writes.push(this.agents.bulkWrite(a, { ordered: false }));
    if (m.length) writes.push(this.customers.bulkWrite(m, { ordered: false }));
    await Promise.all(writes);
  }
}
