// Every instance, active or standby, tails routing's changelog into a StateMirror, so a take-over
// starts from a warm copy instead of reading the topic from the beginning. It reads committed
// records only (kafkajs' default isolation), so an aborted or fenced transaction never shows.
import type { Consumer, Kafka } from 'kafkajs';
import { deleteOwnGroup } from '#libs/kafka';
import type { Logger } from '#libs/observability';
import { errorDetails } from '#libs/observability';
import { OWNER_KEY, StateMirror, type OwnerMarker } from './changelog';

export class StateReader {
  readonly mirror = new StateMirror();
  private readonly consumer: Consumer;
  private waiters: { marker: OwnerMarker; resolve: () => void }[] = [];
  private running = false;
  private paused = false;

  constructor(
    private readonly kafka: Kafka,
    private readonly topic: string,
    /** A group of this instance's own: it never commits, it only reads. */
    private readonly groupId: string,
    private readonly logger: Logger,
    /**
     * Short, as routing's own group: after a broker restart the coordinator keeps the member from
     * before it until this long has passed, and the reader (so a take-over) waits for it.
     */
    sessionTimeoutMs: number,
  ) {
    this.consumer = kafka.consumer({
      groupId,
      minBytes: 1,
      maxWaitTimeInMs: 5,
      allowAutoTopicCreation: false,
      sessionTimeout: sessionTimeoutMs,
      heartbeatInterval: Math.max(500, Math.floor(sessionTimeoutMs / 4)),
    });
    this.consumer.on(this.consumer.events.GROUP_JOIN, () => this.applyPause());
    // kafkajs restarts a crashed consumer unless the error is fatal; then the copy goes cold.
    this.consumer.on(this.consumer.events.CRASH, ({ payload }) => {
      if (!payload.restart) this.running = false;
    });
  }

  /** Running (or restarting after a retriable crash): the copy follows the changelog. */
  get isTailing(): boolean {
    return this.running;
  }

  async start(): Promise<void> {
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: [this.topic], fromBeginning: true });
    await this.consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        for (const message of batch.messages) {
          const key = message.key?.toString('utf8');
          if (key === undefined) continue;
          if (!this.mirror.apply(key, message.value ? message.value.toString('utf8') : null)) {
            this.logger.warn({ topic: this.topic, offset: message.offset }, 'changelog record with a key routing does not write; left out of the state');
          }
          if (key === OWNER_KEY) this.wake();
        }
      },
    });
    this.running = true;
  }

  /**
   * While this instance is active its engine is ahead of the copy, and reading back everything
   * it writes would only cost time: the reader pauses and catches up when it resumes.
   */
  pause(): void {
    this.paused = true;
    this.applyPause();
  }

  resume(): void {
    this.paused = false;
    this.applyPause();
  }

  /** Also on every join: a consumer restarting after a crash has no group to pause until it joins again. */
  private applyPause(): void {
    if (!this.running) return;
    try {
      if (this.paused) this.consumer.pause([{ topic: this.topic }]);
      else this.consumer.resume([{ topic: this.topic }]);
    } catch (err) {
      this.logger.debug(errorDetails(err), 'changelog reader is restarting; its pause is applied when it joins again');
    }
  }

  /** Resolves once the mirror has read `marker`: everything committed before it is in the copy. */
  caughtUp(marker: OwnerMarker): Promise<void> {
    return new Promise((resolve) => {
      this.waiters.push({ marker, resolve });
      this.wake();
    });
  }

  async stop(): Promise<void> {
    this.running = false;
    for (const w of this.waiters) w.resolve();
    this.waiters = [];
    await this.consumer.disconnect();
    await deleteOwnGroup(this.kafka, this.groupId, this.logger);
  }

  private wake(): void {
    const owner = this.mirror.lastOwner;
    if (!owner) return;
    const reached = this.waiters.filter((w) => w.marker.instance === owner.instance && w.marker.activation <= owner.activation);
    if (reached.length === 0) return;
    this.waiters = this.waiters.filter((w) => !reached.includes(w));
    for (const w of reached) w.resolve();
  }
}
