// Two or more routing instances, one active. All join the routing consumer group on the inbound
// contacts; an assigner gives every partition to one member, and that member is the active
// router. When it gets the partitions it takes the transactional id (which fences the instance
// before it), reads its own owner marker back from the changelog and restores the engine from
// its warm copy; it drops its state the moment it loses the partitions or a transaction fails.
// Standbys answer agents with UNAVAILABLE so desks reconnect until they reach the active one.
// /readyz says "can take over" (the changelog is tailed, the producer connected), /activez
// "routes now": a rollout needs ready standbys, agents need the active one.
import { AssignerProtocol, type Consumer, type PartitionAssigner } from 'kafkajs';
import type { Registry } from 'prom-client';
import type { ErasureSet } from '#libs/erasure';
import { backoffMs, faultKind } from '#libs/faults';
import { errorDetails, sharedCounter, sharedGauge, type Logger, type ReadinessState } from '#libs/observability';
import { RoutingEngine, type Clock } from './core/engine';
import type { RoutingPolicy } from './core/policy';
import { FencedError, type DecisionLog } from './decision-log';
import { chooseOwner, decodeMemberState, encodeMemberState } from './ownership';
import { EngineRunner, NotActiveError } from './runner';
import type { StateReader } from './state-reader';

const OWNER_ASSIGNER = 'RoutingSingleOwner';

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
  reader: StateReader;
  log: DecisionLog;
  instanceId: string;
  logger: Logger;
  metrics: Registry;
  /**
   * The group's session timeout: without an acknowledged heartbeat for that long the coordinator
   * has given the contacts to another member, so this one stands down and ends its agents'
   * streams (safety does not depend on it: a replaced instance's commits are refused anyway).
   */
  sessionTimeoutMs: number;
  /** How long the own owner marker may take to be read back before the take-over is tried again. */
  catchUpTimeoutMs?: number;
  /** Everything erased so far (erasures.ts): dropped from the restored state before it routes. */
  erased?: ErasureSet;
  /** The routing deployment (its consumer group), keying its calendars on cc.calendars.v1. */
  deployment?: string;
}

export class RoutingOwnership {
  private state: ActiveState | null = null;
  private activation: Promise<void> = Promise.resolve();
  private epoch = 0;
  private stopped = false;
  /** The last join gave this member the partitions. */
  private owns = false;
  private activating = false;
  /** Failed take-overs since ownership came, the last failure, and when to try again. */
  private retry: { attempts: number; since: number; error: string; notBefore: number } | null = null;
  /** When the group coordinator last acknowledged this member (a heartbeat or a join). */
  private lastContact = 0;
  private readonly activeGauge;
  private readonly takeOvers;

  constructor(private readonly deps: OwnershipDeps) {
    this.activeGauge = sharedGauge(deps.metrics, { name: 'cc_routing_active', help: '1 while this instance is the active router' });
    this.activeGauge.set(0);
    this.takeOvers = sharedCounter(deps.metrics, {
      name: 'cc_routing_takeovers_total',
      help: 'Times this instance took routing over (became the active router)',
    });
  }

  /** True while this instance holds the state and may commit. */
  get isActive(): boolean {
    return this.state !== null && !this.stopped;
  }

  /**
   * For /readyz: able to take over. The active instance and a warm standby are ready; one that
   * stops, or whose changelog reader does not run, is not (the producer has a check of its own).
   */
  readiness(): ReadinessState {
    if (this.stopped) return { ready: false, detail: 'stopping' };
    if (!this.deps.reader.isTailing) return { ready: false, detail: 'the changelog reader is not running: a take-over would start cold' };
    return true;
  }

  /** For /activez: active, or why not (a standby, or taking over and what it waits for). */
  activity(): ReadinessState {
    if (this.isActive) return true;
    if (this.stopped) return { ready: false, detail: 'stopping' };
    if (!this.owns) return { ready: false, detail: 'standby: another instance routes (or the group has not assigned the contacts yet)' };
    if (this.retry) {
      const seconds = Math.round((Date.now() - this.retry.since) / 1000);
      return { ready: false, detail: `taking routing over for ${seconds} s (${this.retry.attempts} failed attempts): ${this.retry.error}` };
    }
    return { ready: false, detail: 'taking routing over: restoring the state from the changelog' };
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

  /** Follows the group: joins decide ownership, heartbeats allow a take-over to be tried again, a crash ends it. */
  follow(consumer: Consumer): void {
    consumer.on(consumer.events.HEARTBEAT, () => this.heartbeat());
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      const owns = Object.values(payload.memberAssignment).some((partitions) => partitions.length > 0);
      this.joined(owns);
    });
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      this.deps.logger.error({ err: payload.error.message }, 'routing consumer crashed; giving up ownership');
      this.owns = false;
      this.deactivate('consumer crashed');
    });
  }

  /**
   * An acknowledged heartbeat: the coordinator still counts this member with the assignment of
   * its last join, so no other member owns the contacts. Only then is a failed take-over (or a
   * failed transaction) tried again: an instance cut off from the group must not take the
   * transactional id back from the one that replaced it.
   */
  heartbeat(): void {
    this.lastContact = Date.now();
    if (!this.owns || this.state !== null || this.activating || this.stopped) return;
    if (this.retry && Date.now() < this.retry.notBefore) return;
    this.deps.logger.info('heartbeat acknowledged while owning the contacts; taking routing over again');
    this.activate();
  }

  /** Called on every group join. */
  joined(owns: boolean): void {
    if (this.stopped) return;
    this.lastContact = Date.now();
    this.owns = owns;
    this.retry = null;
    // Kept the partitions through the rebalance: nobody else owned them in between, or if one
    // did, it fenced this instance and the next commit fails, which stands it down.
    if (owns && this.state) return;
    if (!owns) {
      if (this.state) this.deactivate('partitions went to another instance');
      return;
    }
    this.activate();
  }

  /** Called from the timer: stands down once the group cannot have counted this member for a session timeout. */
  check(): void {
    if (this.state && Date.now() - this.lastContact > this.deps.sessionTimeoutMs) {
      this.deps.logger.warn('no heartbeat acknowledged for a session timeout; the group has given the contacts to another member');
      this.owns = false;
      this.deactivate('cut off from the group');
    }
  }

  /** On shutdown: stop routing and let the transaction under way finish before the group is left. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.deactivate('stopping');
    await this.activation;
    await this.deps.log.close();
  }

  private activate(): void {
    const epoch = ++this.epoch;
    this.activating = true;
    this.activation = this.activation.then(async () => {
      if (epoch !== this.epoch || this.stopped) return;
      try {
        const state = await this.takeOver(epoch);
        if (epoch !== this.epoch || this.stopped) {
          await state.runner.close(new NotActiveError('routing moved on while taking over; reconnect'));
          return;
        }
        this.state = state;
        this.deps.reader.pause();
        this.activeGauge.set(1);
        this.takeOvers.inc();
        this.retry = null;
      } catch (err) {
        if (err instanceof FencedError) this.owns = false; // another member took over meanwhile
        const retry = (this.retry ??= { attempts: 0, since: Date.now(), error: '', notBefore: 0 });
        retry.attempts += 1;
        retry.error = err instanceof Error ? err.message : String(err);
        const retryInMs = backoffMs(retry.attempts, { initialMs: 500, maxMs: 5000 });
        retry.notBefore = Date.now() + retryInMs;
        this.deps.logger.error(
          { ...errorDetails(err), fault: faultKind(err), attempts: retry.attempts, retryInMs },
          'could not take routing over; trying again after the next heartbeat',
        );
      } finally {
        if (epoch === this.epoch) this.activating = false;
      }
    });
  }

  /** Fences the previous owner, reads the changelog up to this take-over and restores the engine. */
  private async takeOver(epoch: number): Promise<ActiveState> {
    const { policy, clock, reader, log, logger, metrics, instanceId } = this.deps;
    const started = Date.now();
    const marker = { instance: instanceId, activation: epoch };
    reader.resume();
    await log.open(marker);
    const timeoutMs = this.deps.catchUpTimeoutMs ?? 30_000;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`the changelog was not read up to this take-over within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      await Promise.race([reader.caughtUp(marker), timedOut]);
    } finally {
      clearTimeout(timer);
    }
    const engine = new RoutingEngine(policy, clock);
    const runner = new EngineRunner(engine, log, logger, metrics, (err) => this.transactionFailed(epoch, err), this.deps.deployment);
    const snapshot = reader.mirror.snapshot();
    await runner.run(() => engine.restore(snapshot));
    const erased = this.deps.erased;
    // Erasures made while no instance routed (or before a changelog delete committed) go now, in a transaction of their own.
    if (erased && erased.size > 0) await runner.run(() => engine.erase(erased));
    logger.info(
      { agents: snapshot.agents.length, conversations: snapshot.conversations.length, ms: Date.now() - started },
      'routing state restored from the changelog; this instance is active',
    );
    return { engine, runner };
  }

  private transactionFailed(epoch: number, err: unknown): void {
    if (epoch !== this.epoch) return;
    const fenced = err instanceof FencedError;
    if (fenced) this.owns = false;
    this.deps.logger.error(
      { ...errorDetails(err), fault: faultKind(err) },
      fenced
        ? 'another routing instance took over; this one stands down'
        : 'a routing transaction failed; standing down until the group confirms this instance still owns the contacts',
    );
    this.deactivate(fenced ? 'fenced' : 'transaction failed');
  }

  private deactivate(reason: string): void {
    this.epoch++;
    this.activating = false;
    const previous = this.state;
    this.state = null;
    this.activeGauge.set(0);
    this.deps.reader.resume();
    if (!previous) return;
    this.deps.logger.info({ reason }, 'routing stands down; this instance is a standby');
    this.activation = this.activation.then(() => previous.runner.close(new NotActiveError(`routing moved to another instance (${reason}); reconnect`)));
  }
}
