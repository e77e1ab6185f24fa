// Makes the core's decisions durable and visible: one Kafka transaction carries the changelog
// records of what changed, the events decided and the input offsets consumed; only after it
// commits are callers answered and agents' streams told. Calls arriving while a transaction is
// in flight share the next one (group commit), so one round trip serves many decisions. A
// transaction that fails closes the runner: the engine may hold decisions that never
// committed, so the instance stands down and whoever routes next starts from the changelog.
import type { Registry } from 'prom-client';
import { eventId } from '#libs/contact';
import type { TopicSpec } from '#libs/kafka';
import { RetryLaterError, topics } from '#libs/kafka';
import { sharedHistogram, type Logger } from '#libs/observability';
import type { SaysGrpcStatus } from '#libs/service/grpc-errors';
import type { WatchAssignmentsResponse } from '#libs/proto';
import { calendarsPublication } from './calendars-topic';
import { changeRecords } from './changelog';
import type { Effect, RoutingEngine } from './core/engine';
import type { DecisionBatch, DecisionRecord, InputOffset } from './decision-log';

export type AgentListener = (update: WatchAssignmentsResponse) => void;

/** This instance does not own routing now (standby, or it lost its lease): callers go to the other one. */
export class NotActiveError extends RetryLaterError implements SaysGrpcStatus {
  /** A RetryLaterError for the consumer (the record is left for the owner), UNAVAILABLE to a caller. */
  readonly grpcStatus = 'UNAVAILABLE';
  constructor(detail = 'this is not the active routing instance; reconnect to reach the active one') {
    super(detail);
    this.name = 'NotActiveError';
  }
}

interface Listener {
  write: AgentListener;
  end: (err: Error) => void;
}

export class EngineRunner {
  private pending: Effect[] = [];
  /** The furthest input position decided so far, per partition, not yet committed. */
  private readonly offsets = new Map<string, InputOffset>();
  /** Positions read past without deciding anything: committed with the next transaction, or after a while. */
  private readonly passedOver = new Map<string, InputOffset>();
  private passedOverSince = 0;
  private chain: Promise<void> = Promise.resolve();
  private scheduled: Promise<void> | null = null;
  private readonly listeners = new Map<string, Set<Listener>>();
  private closed = false;
  private readonly commitSeconds;

  constructor(
    private readonly engine: RoutingEngine,
    private readonly log: { commit(batch: DecisionBatch): Promise<void> },
    private readonly logger: Logger,
    metrics: Registry,
    /** Told once when a transaction fails: the instance must stand down. */
    private readonly onFailure: (err: unknown) => void = () => undefined,
    /** The routing deployment (its consumer group): the key of its calendars on cc.calendars.v1. */
    private readonly deployment = 'routing',
  ) {
    this.commitSeconds = sharedHistogram(metrics, {
      name: 'cc_routing_commit_seconds',
      help: 'Time to commit one transaction of routing decisions',
      buckets: [0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 1],
    });
  }

  /**
   * Runs a core command; resolves once its decisions (and `input`, the position it consumed)
   * are committed. Rejects with NotActiveError when they cannot be.
   */
  async run<T>(command: () => T, input?: InputOffset): Promise<T> {
    if (this.closed) throw new NotActiveError();
    const result = command();
    const effects = Array.isArray(result)
      ? (result as Effect[])
      : result && typeof result === 'object' && 'effects' in result
        ? (result as { effects: Effect[] }).effects
        : [];
    this.pending.push(...effects);
    if (input) furthest(this.offsets, input);
    const passedOverLong = this.passedOver.size > 0 && Date.now() - this.passedOverSince > PASSED_OVER_MS;
    if (this.pending.length > 0 || this.offsets.size > 0 || this.engine.hasChanges() || passedOverLong) {
      await this.commit();
    } else {
      // A command that changed nothing still answers after what came before it, and only if that held.
      await this.chain;
      if (this.closed) throw new NotActiveError();
    }
    return result;
  }

  /**
   * Records read that decided nothing (routing's own events): their position rides along with
   * the next transaction instead of costing one of its own. Reading them again after a crash
   * changes nothing.
   */
  passOver(input: InputOffset): void {
    if (this.closed) throw new NotActiveError();
    if (this.passedOver.size === 0) this.passedOverSince = Date.now();
    furthest(this.passedOver, input);
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
    if (this.closed) throw new NotActiveError();
    const effects = this.pending;
    this.pending = [];
    for (const o of this.passedOver.values()) furthest(this.offsets, o);
    this.passedOver.clear();
    const offsets = [...this.offsets.values()];
    this.offsets.clear();
    const changes = this.engine.takeChanges();
    const events = decisionRecords(effects);
    // A supervisor's calendars reach the email service in the same transaction as routing's own record of them.
    const calendars = changes.calendars ? calendarsPublication(this.engine.calendarsRecord(), this.deployment) : undefined;
    if (calendars) events.push(calendars);
    const batch: DecisionBatch = { changelog: changeRecords(this.engine, changes), events, offsets };
    const started = process.hrtime.bigint();
    try {
      await this.log.commit(batch);
    } catch (err) {
      this.closed = true;
      this.onFailure(err);
      throw new NotActiveError(`routing stands down: ${err instanceof Error ? err.message : String(err)}; reconnect`);
    } finally {
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

/** How long positions passed over may wait for a transaction before they get one of their own. */
const PASSED_OVER_MS = 5000;

function furthest(offsets: Map<string, InputOffset>, input: InputOffset): void {
  const key = `${input.topic}/${input.partition}`;
  const known = offsets.get(key);
  if (!known || BigInt(known.offset) < BigInt(input.offset)) offsets.set(key, input);
}

/** The records a group of effects publishes; only the latest state of each agent (compacted topic). */
function decisionRecords(effects: Effect[]): DecisionRecord[] {
  const records: DecisionRecord[] = [];
  const agentStates = new Map<string, Effect & { type: 'agent_state' }>();
  const spec = <T>(t: TopicSpec<T>) => t as TopicSpec<unknown>;
  for (const e of effects) {
    if (e.type === 'conversation')
      records.push({ topic: spec(topics.conversationEvents), key: e.event.conversationId, message: e.event, id: e.event.eventId, time: e.event.occurredAt });
    else if (e.type === 'sla')
      records.push({ topic: spec(topics.sla), key: e.event.conversationId, message: e.event, id: e.event.eventId, time: e.event.occurredAt });
    else if (e.type === 'outbound')
      records.push({ topic: spec(topics.outbound), key: e.message.conversationId, message: e.message, id: e.message.messageId, time: e.message.createdAt });
    else if (e.type === 'agent_state') agentStates.set(e.state.agentId, e);
  }
  for (const e of agentStates.values()) {
    records.push({
      topic: spec(topics.agentState),
      key: e.state.agentId,
      message: e.state,
      id: eventId('routing', e.state.agentId, e.state.updatedAt?.getTime() ?? 0, e.state.presence),
      time: e.state.updatedAt,
    });
  }
  return records;
}
