// While a record waits on a dependency no batch comes for its partition, and the lag would stay
// as it was when the wait began: it is refreshed from the broker's offsets instead.
import type { Admin, Kafka } from 'kafkajs';
import type { Logger } from '../observability/logger';
import type { ConsumerHealth } from './consumer-health';

export class LagRefresh {
  private readonly timer: NodeJS.Timeout;
  private admin?: Admin;
  private busy = false;
  private stopped = false;

  constructor(
    private readonly kafka: Kafka,
    private readonly health: ConsumerHealth,
    private readonly log: Logger,
    everyMs: number,
  ) {
    this.timer = setInterval(() => void this.refresh(), everyMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.admin?.disconnect();
  }

  private async refresh(): Promise<void> {
    const held = this.health.heldTopics();
    if (this.busy || this.stopped || !held.length) return;
    this.busy = true;
    try {
      if (!this.admin) {
        this.admin = this.kafka.admin();
        await this.admin.connect();
        // Stopped meanwhile: stop() disconnected nothing or a client not yet connected.
        if (this.stopped) return void (await this.admin.disconnect());
      }
      for (const topic of held) this.health.refreshLag(topic, await this.admin.fetchTopicOffsets(topic));
    } catch (err) {
      this.log.warn({ error: err instanceof Error ? err.message : String(err) }, 'could not refresh the lag of held partitions');
    } finally {
      this.busy = false;
    }
  }
}
