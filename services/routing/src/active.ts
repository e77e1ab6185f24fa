// Two or more routing instances, one active. All join the routing consumer group on the inbound
// contacts; an assigner gives every partition to one member, and that member is the active
// router. It builds its state from the store when it gets the partitions, writes only while its
// lease (renewed by the group heartbeats) holds, and drops its state the moment it loses them.
// Standbys answer agents with UNAVAILABLE so desks reconnect until they reach the active one.
import { AssignerProtocol, type Consumer, type PartitionAssigner } from 'kafkajs';
import type { Registry } from 'prom-client';
import type { EventProducer } from '../../../libs/kafka';
import { backoffMs, faultKind } from '../../../libs/faults';
import { errorDetails, sharedGauge, type Logger, type ReadinessState } from '../../../libs/observability';
import { RoutingEngine, type Clock } from './core/engine';
import type { RoutingPolicy } from './core/policy';
import { chooseOwner, decodeMemberState, encodeMemberState, Lease } from './ownership';
import { EngineRunner, NotActiveError } from './runner';
import type { RoutingStore } from './store';

export const OWNER_ASSIGNER = 'RoutingSingleOwner';

/** A kafkajs assigner: every partition of every subscribed topic to one member, the current owner if any. */
export function singleOwnerAssigner(isActive: () => boolean): PartitionAssigner {
  return ({ cluster }) => ({
    name: OWNER_ASSIGNER,
    version: 1,
    async assign({ members, topics }) {
      const owner = chooseOwner(
        members.map((m) => ({ memberId: m.memberId, active: decodeMemberState(AssignerProtocol.MemberMetadata.decode(m.memberMetadata)?.userData) })),
      );
      const all: Record<string, number[]> = {};
      for (const topic of topics) all[topic] = cluster.findTopicPartitionMetadata(topic).map((p) => p.partitionId);
      return members.map((m) => ({
        memberId: m.memberId,
        memberAssignment: AssignerProtocol.MemberAssignment.encode({ version: 1, assignment: m.memberId === owner ? all : {}, userData: Buffer.alloc(0) }),
      }));
    },
    protocol({ topics }) {
      return { name: OWNER_ASSIGNER, metadata: AssignerProtocol.MemberMetadata.encode({ version: 1, topics, userData: encodeMemberState(isActive()) }) };
    },
  });
}

export interface ActiveState {
  engine: RoutingEngine;
  runner: EngineRunner;
}

export interface OwnershipDeps {
  policy: RoutingPolicy;
  clock: Clock;
  store: RoutingStore;
  producer: EventProducer;
  logger: Logger;
  metrics: Registry;
  /** Half the group session timeout (see `Lease`). */
  leaseMs: number;
}

export class RoutingOwnership {
  private state: ActiveState | null = null;
  private activation: Promise<void> = Promise.resolve();
  private epoch = 0;
  private stopped = false;
  private sweeping = false;
  /** The last join gave this member the partitions. */
  private owns = false;
  private activating = false;
  private nextSweep = 0;
  /** Failed attempts at rebuilding the state since ownership came, and the last failure. */
  private rebuild: { attempts: number; since: number; error: string } | null = null;
  private readonly lease: Lease;
  private readonly activeGauge;

  constructor(private readonly deps: OwnershipDeps) {
    // Wall time, not the routing clock: the lease is about the coordinator's real timeouts.
    this.lease = new Lease({ now: () => Date.now() }, deps.leaseMs);
    this.activeGauge = sharedGauge(deps.metrics, { name: 'cc_routing_active', help: '1 while this instance is the active router' });
    this.activeGauge.set(0);
  }

  /** True while this instance holds the state and may write. */
  get isActive(): boolean {
    return this.state !== null && this.lease.valid && !this.stopped;
  }

  /** For /readyz: active, or why not (a standby, or rebuilding its state and what it waits for). */
  readiness(): ReadinessState {
    if (this.isActive) return true;
    if (this.stopped) return { ready: false, detail: 'stopping' };
    if (!this.owns) return { ready: false, detail: 'standby: another instance routes (or the group has not assigned the contacts yet)' };
    if (this.rebuild) {
      const seconds = Math.round((Date.now() - this.rebuild.since) / 1000);
      return { ready: false, detail: `rebuilding the routing state from the store for ${seconds} s (${this.rebuild.attempts} attempts): ${this.rebuild.error}` };
    }
    return { ready: false, detail: 'rebuilding the routing state from the store' };
  }

  /** The state to act on, or NotActiveError (UNAVAILABLE to agents; records left for the owner). */
  current(): ActiveState {
    if (!this.isActive) throw new NotActiveError();
    return this.state!;
  }

  /** Waits briefly for an activation under way (a contact fetched just after the partitions came). */
  async whenActive(timeoutMs: number): Promise<ActiveState> {
    const deadline = Date.now() + timeoutMs;
    while (!this.isActive && !this.stopped && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    return this.current();
  }

  /** Resolves once the latest activation (or deactivation) has finished. */
  settled(): Promise<void> {
    return this.activation;
  }

  /** Follows the group: joins decide ownership, heartbeats renew the lease, a crash ends it. */
  follow(consumer: Consumer): void {
    consumer.on(consumer.events.HEARTBEAT, () => this.heartbeat());
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      const owns = Object.values(payload.memberAssignment).some((partitions) => partitions.length > 0);
      this.joined(owns);
    });
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      this.deps.logger.error({ err: payload.error.message }, 'routing consumer crashed; giving up ownership');
      this.owns = false;
      this.lease.lapse();
      this.deactivate('consumer crashed');
    });
  }

  /**
   * An acknowledged heartbeat: the coordinator still counts this member with the assignment
   * of its last join. If the lease had lapsed meanwhile (a long stall), nobody else can have
   * owned the work, but the state was dropped: rebuild it.
   */
  heartbeat(): void {
    this.lease.renew();
    if (this.owns && this.state === null && !this.activating && !this.stopped) {
      this.deps.logger.info('heartbeat acknowledged again while owning the contacts; taking routing back');
      this.activate();
    }
  }

  /** Called on every group join; the lease is renewed by the join itself. */
  joined(owns: boolean): void {
    if (this.stopped) return;
    this.owns = owns;
    const continuous = this.state !== null && this.lease.valid;
    this.lease.renew();
    if (owns && continuous) return; // kept ownership through the rebalance: state still good
    if (!owns) {
      this.rebuild = null;
      if (this.state) this.deactivate('partitions went to another instance');
      return;
    }
    // Newly owned (or owned again after a gap another instance may have filled): rebuild.
    if (this.state) this.deactivate('lease lapsed during the rebalance');
    this.activate();
  }

  /**
   * Publishes what an earlier owner stored but could not publish (its outbox write can land
   * after this instance took over). Runs from the timer, one sweep at a time.
   */
  sweepOutbox(): void {
    if (!this.isActive || this.sweeping || Date.now() < this.nextSweep) return;
    this.sweeping = true;
    this.nextSweep = Date.now() + 2000;
    this.deps.store
      .publishOutbox(this.deps.producer)
      .then((n) => n && this.deps.logger.warn({ records: n }, 'published decisions stored earlier but not published'))
      .catch((err: unknown) => this.deps.logger.error(errorDetails(err), 'could not publish the routing outbox; retrying'))
      .finally(() => (this.sweeping = false));
  }

  /** Drops the state if the lease ran out (no heartbeat acknowledged in time). */
  check(): void {
    if (this.state && !this.lease.valid) {
      this.deps.logger.warn('routing lease lapsed (no heartbeat acknowledged in time); standing down');
      this.deactivate('lease lapsed');
    }
  }

  /** On shutdown: stop routing and let the write under way finish before the group is left. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.deactivate('stopping');
    await this.activation;
  }

  private activate(): void {
    const epoch = ++this.epoch;
    this.activating = true;
    this.activation = this.activation.then(async () => {
      if (epoch !== this.epoch || this.stopped) return;
      const { policy, clock, store, producer, logger, metrics } = this.deps;
      const engine = new RoutingEngine(policy, clock);
      const runner = new EngineRunner(engine, store, producer, logger, metrics, () => epoch === this.epoch && this.lease.valid && !this.stopped, store);
      let retrying = false;
      try {
        // Decisions the previous owner stored but could not publish go out first, in order.
        const replayed = await store.publishOutbox(producer);
        if (replayed) logger.warn({ records: replayed }, 'published decisions the previous routing instance had stored but not published');
        const snapshot = await store.load();
        await runner.run(() => engine.restore(snapshot));
        if (epoch !== this.epoch) return;
        this.state = { engine, runner };
        this.activeGauge.set(1);
        logger.info({ agents: snapshot.agents.length, conversations: snapshot.conversations.length, attempts: (this.rebuild?.attempts ?? 0) + 1 }, 'routing state restored; this instance is active');
        this.rebuild = null;
      } catch (err) {
        // Still the owner: try again with capped back-off (records wait meanwhile; none is lost
        // or dead-lettered). A store that is down is the usual reason, and it comes back.
        const rebuild = (this.rebuild ??= { attempts: 0, since: Date.now(), error: '' });
        rebuild.attempts += 1;
        rebuild.error = err instanceof Error ? err.message : String(err);
        const retryInMs = backoffMs(rebuild.attempts, { initialMs: 500, maxMs: 5000 });
        logger.error({ ...errorDetails(err), fault: faultKind(err), attempts: rebuild.attempts, retryInMs }, 'could not rebuild routing state; retrying');
        await runner.close(new NotActiveError('routing is starting; reconnect'));
        if (epoch === this.epoch && !this.stopped) {
          // Still activating until the retry: heartbeats must not start one sooner.
          retrying = true;
          setTimeout(() => {
            if (epoch !== this.epoch) return;
            if (this.owns && !this.stopped) this.activate();
            else this.activating = false;
          }, retryInMs).unref();
        }
      } finally {
        if (epoch === this.epoch && !retrying) this.activating = false;
      }
    });
  }

  private deactivate(reason: string): void {
    this.epoch++;
    this.activating = false;
    const previous = this.state;
    this.state = null;
    this.activeGauge.set(0);
    if (!previous) return;
    this.deps.logger.info({ reason }, 'routing stands down; this instance is a standby');
    this.activation = this.activation.then(() => previous.runner.close(new NotActiveError(`routing moved to another instance (${reason}); reconnect`)));
  }
}
