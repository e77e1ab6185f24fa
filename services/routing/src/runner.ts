// Makes the core's decisions durable and visible, in order: state snapshot written, then events
// published (acknowledged by Kafka), then agents' streams told. Calls arriving while a write
// is in flight share the next one (group commit), so one slow round trip serves many decisions.
import type { Registry } from 'prom-client';
import type { EventProducer, TopicSpec } from '../../../libs/kafka';
import { RetryLaterError, topics } from '../../../libs/kafka';
import { sharedHistogram, type Logger } from '../../../libs/observability';
import type { WatchAssignmentsResponse } from '../../../libs/proto';
import type { Effect, RoutingEngine } from './core/engine';

export type AgentListener = (update: WatchAssignmentsResponse) => void;

/** This instance does not own routing now (standby, or it lost its lease): callers go to the other one. */
export class NotActiveError extends RetryLaterError {
  constructor(detail = 'this is not the active routing instance; reconnect to reach the active one') {
    super(detail);
    this.name = 'NotActiveError';
  }
}

/** One record a decision publishes. */
export interface DecisionRecord {
  topic: TopicSpec<unknown>;
  key: string;
  message: unknown;
  id: string;
  time?: Date;
}

/** Keeps records that were decided and stored but not published, for whoever routes next. */
export interface Outbox {
  keep(records: DecisionRecord[]): Promise<void>;
}

interface Listener {
  write: AgentListener;
  end: (err: Error) => void;
}

export class EngineRunner {
  private pending: Effect[] = [];
  private chain: Promise<void> = Promise.resolve();
  private scheduled: Promise<void> | null = null;
  private readonly listeners = new Map<string, Set<Listener>>();
  private closed = false;
  /** A write is under way (its outcome is not known yet). */
  private flushing = false;
  private readonly commitSeconds;

  constructor(
    private readonly engine: RoutingEngine,
    private readonly store: { save: (engine: RoutingEngine, changed: { conversations: string[]; agents: string[]; customers: string[] }) => Promise<void> },
    private readonly producer: EventProducer,
    private readonly logger: Logger,
    metrics: Registry,
    /** False once this instance may no longer write (ownership lost): nothing more is stored or published. */
    private readonly fence: () => boolean = () => true,
    private readonly outbox?: Outbox,
  ) {
    this.commitSeconds = sharedHistogram(metrics, {
      name: 'cc_routing_commit_seconds',
      help: 'Time to persist and publish one group of routing decisions',
      buckets: [0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 1],
    });
  }

  /** Runs a core command; resolves once its decisions are stored and published. */
  async run<T>(command: () => T): Promise<T> {
    if (this.closed || !this.fence()) throw new NotActiveError();
    const result = command();
    const effects = Array.isArray(result) ? (result as Effect[]) : result && typeof result === 'object' && 'effects' in result ? (result as { effects: Effect[] }).effects : [];
    this.pending.push(...effects);
    // Resolves only once everything decided so far is stored and published. A command that adds
    // nothing (a contact seen again after a failed write) still waits for the write in flight or
    // due, which carries its decision and may fail: reporting it done earlier would let the
    // consumer move past a record whose decision then exists only in memory.
    if (effects.length > 0 || this.pending.length > 0 || this.flushing || this.engine.hasChanges()) await this.commit();
    return result;
  }

  /** Follows an agent's updates; `end` is called if this runner closes (the desk must reconnect). */
  listen(agentId: string, write: AgentListener, end: (err: Error) => void = () => undefined): () => void {
    let set = this.listeners.get(agentId);
    if (!set) this.listeners.set(agentId, (set = new Set()));
    const listener = { write, end };
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0) this.listeners.delete(agentId);
    };
  }

  /** Refuses further commands, ends every agent stream with `err`, and waits for the write under way. */
  async close(err: Error): Promise<void> {
    this.closed = true;
    const all = [...this.listeners.values()].flatMap((set) => [...set]);
    this.listeners.clear();
    for (const l of all) {
      try {
        l.end(err);
      } catch (e) {
        this.logger.warn({ err: e instanceof Error ? e.message : String(e) }, 'could not end an agent stream');
      }
    }
    await this.chain;
  }

  private commit(): Promise<void> {
    if (this.scheduled) return this.scheduled;
    const next = this.chain.then(() => {
      this.scheduled = null;
      return this.flush();
    });
    this.scheduled = next;
    this.chain = next.catch(() => undefined);
    return next;
  }

  private async flush(): Promise<void> {
    const effects = this.pending;
    this.pending = [];
    const changed = this.engine.takeChanges();
    const started = process.hrtime.bigint();
    this.flushing = true;
    let stored = false;
    const records = decisionRecords(effects);
    let unpublished = records;
    try {
      // Checked right before the write: an instance that lost ownership must not overwrite its successor.
      if (this.closed || !this.fence()) throw new NotActiveError();
      await this.store.save(this.engine, changed);
      stored = true;
      const results = await Promise.allSettled(records.map((r) => this.producer.publish(r.topic, r.key, r.message, { id: r.id, time: r.time })));
      unpublished = records.filter((_, i) => results[i]!.status === 'rejected');
      const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failure) throw failure.reason;
    } catch (err) {
      // Stored but not published: if this instance loses ownership before it publishes them
      // again, the next owner finds them in the outbox (ids are stable, so repeats are harmless).
      if (stored && this.outbox && unpublished.length > 0) {
        await this.outbox.keep(unpublished).catch((e: unknown) => this.logger.error({ err: e instanceof Error ? e.message : String(e), records: unpublished.length }, 'could not keep unpublished decisions in the outbox'));
      }
      // Kept for the next commit: the decisions stand in memory, so they must still be written.
      this.pending = [...effects, ...this.pending];
      this.engine.returnChanges(changed);
      throw err;
    } finally {
      this.flushing = false;
      this.commitSeconds.observe(Number(process.hrtime.bigint() - started) / 1e9);
    }
    for (const e of effects) {
      if (e.type === 'notify') this.deliver(e.agentId, e.update);
      else if (e.type === 'agent_state') this.deliver(e.state.agentId, { update: { $case: 'agentState', agentState: e.state } });
    }
  }

  private deliver(agentId: string, update: WatchAssignmentsResponse): void {
    for (const listener of this.listeners.get(agentId) ?? []) {
      try {
        listener.write(update);
      } catch (err) {
        this.logger.warn({ agentId, err: err instanceof Error ? err.message : String(err) }, 'could not write to an agent stream');
      }
    }
  }
}

/** The records a group of effects publishes; only the latest state of each agent (compacted topic). */
export function decisionRecords(effects: Effect[]): DecisionRecord[] {
  const records: DecisionRecord[] = [];
  const agentStates = new Map<string, Effect & { type: 'agent_state' }>();
  const spec = <T>(t: TopicSpec<T>) => t as TopicSpec<unknown>;
  for (const e of effects) {
    if (e.type === 'conversation') records.push({ topic: spec(topics.conversationEvents), key: e.event.conversationId, message: e.event, id: e.event.eventId, time: e.event.occurredAt });
    else if (e.type === 'sla') records.push({ topic: spec(topics.sla), key: e.event.conversationId, message: e.event, id: e.event.eventId, time: e.event.occurredAt });
    else if (e.type === 'outbound') records.push({ topic: spec(topics.outbound), key: e.message.conversationId, message: e.message, id: e.message.messageId, time: e.message.createdAt });
    else if (e.type === 'agent_state') agentStates.set(e.state.agentId, e);
  }
  for (const e of agentStates.values()) {
    records.push({ topic: spec(topics.agentState), key: e.state.agentId, message: e.state, id: `${e.state.agentId}/${e.state.updatedAt?.getTime() ?? 0}/${e.state.presence}`, time: e.state.updatedAt });
  }
  return records;
}
