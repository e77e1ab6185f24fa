// Routing's own collections: a snapshot of every conversation, agent and customer memory,
// written as decisions are made and read back at start-up. Each record is kept as JSON text
// under its id, so channel metadata keys (dots, dollars) never clash with the store's rules.
import type { Collection, Db } from 'mongodb';
import { topics, type EventProducer, type TopicSpec } from '../../../libs/kafka';
import type { AgentRecord, ConversationRecord, CustomerMemory, RoutingEngine } from './core/engine';
import type { DecisionRecord, Outbox } from './runner';

interface SnapshotDoc {
  _id: string;
  state?: string;
  data: string;
  savedAt: Date;
}

interface OutboxDoc {
  _id: string;
  topic: string;
  key: string;
  time?: Date;
  /** The message, protobuf-encoded, base64. */
  value: string;
  savedAt: Date;
}

const specsByName = new Map<string, TopicSpec<unknown>>(Object.values(topics).map((t) => [t.name, t as TopicSpec<unknown>]));

export class RoutingStore implements Outbox {
  private readonly conversations: Collection<SnapshotDoc>;
  private readonly agents: Collection<SnapshotDoc>;
  private readonly customers: Collection<SnapshotDoc>;
  private readonly outbox: Collection<OutboxDoc>;

  constructor(db: Db) {
    this.outbox = db.collection<OutboxDoc>('routing_outbox');
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

  /** Decisions stored in the snapshot whose publishing failed (keyed by record id, so kept once). */
  async keep(records: DecisionRecord[]): Promise<void> {
    if (records.length === 0) return;
    const savedAt = new Date();
    await this.outbox.bulkWrite(
      records.map((r) => {
        const doc: OutboxDoc = { _id: `${r.topic.name}/${r.id}`, topic: r.topic.name, key: r.key, value: Buffer.from(r.topic.codec.encode(r.message).finish()).toString('base64'), savedAt, ...(r.time ? { time: r.time } : {}) };
        return { replaceOne: { filter: { _id: doc._id }, replacement: doc, upsert: true } };
      }),
      { ordered: false },
    );
  }

  /** Publishes what the outbox holds, oldest first, then empties it; returns how many. */
  async publishOutbox(producer: EventProducer): Promise<number> {
    const docs = await this.outbox.find({}).sort({ savedAt: 1 }).toArray();
    for (const d of docs) {
      const spec = specsByName.get(d.topic);
      if (!spec) throw new Error(`routing outbox holds a record for unknown topic ${d.topic}`);
      const id = d._id.slice(d.topic.length + 1);
      await producer.publish(spec, d.key, spec.codec.decode(Buffer.from(d.value, 'base64')), { id, time: d.time });
    }
    if (docs.length) await this.outbox.deleteMany({ _id: { $in: docs.map((d) => d._id) } });
    return docs.length;
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
    const c = ops(changed.conversations, (id) => engine.conversations.get(id), (v) => v.state);
    const a = ops(changed.agents, (id) => engine.agents.get(id));
    const m = ops(changed.customers, (id) => engine.customers.get(id));
    // One after the other: the local store keeps a database in one SQLite file with one writer at
    // a time, and concurrent upsert batches into it could stall each other for good.
    if (c.length) await this.conversations.bulkWrite(c, { ordered: false });
    if (a.length) await this.agents.bulkWrite(a, { ordered: false });
    if (m.length) await this.customers.bulkWrite(m, { ordered: false });
  }
}
