// Every applied merge is announced on cc.customer.merges.v1 (CustomerMerged), once the merge is
// stored: right after it, and again by a sweep for any whose publish Kafka did not acknowledge
// (broker down, process ended between the two). The record's ce_id is the merge id, so a merge
// published twice is one event to every consumer. The merge itself stands either way: it is the
// store's, and undoing it is a separate call.
import type { Collection } from 'mongodb';
import type { EventProducer } from '#libs/kafka';
import { topics } from '#libs/kafka';
import { errorDetails, type Logger } from '#libs/observability';
import { CustomerMerged } from '#libs/proto';
import type { MergeDoc } from './store/records';

export class MergeAnnouncements {
  private sweeping = false;

  constructor(
    private readonly merges: Collection<MergeDoc>,
    private readonly producer: Pick<EventProducer, 'publish'>,
    private readonly logger: Logger,
  ) {}

  /** Publishes the merge if it is applied and not yet announced; a failure is left to the sweep. */
  async announce(mergeId: string): Promise<void> {
    try {
      const merge = await this.merges.findOne({ _id: mergeId });
      if (merge) await this.publish(merge);
    } catch (err) {
      this.logger.warn({ mergeId, ...errorDetails(err) }, 'merge not announced yet; the sweep will publish it');
    }
  }

  /** Announces every applied merge not announced yet (the merges collection is small: a scan). */
  async sweep(): Promise<void> {
    if (this.sweeping) return;
    this.sweeping = true;
    try {
      const waiting = await this.merges
        .find({ state: 'applied', announcedAt: { $exists: false } })
        .limit(100)
        .toArray();
      for (const merge of waiting) await this.publish(merge);
    } catch (err) {
      this.logger.warn(errorDetails(err), 'merge announcements wait for Kafka or the store');
    } finally {
      this.sweeping = false;
    }
  }

  private async publish(merge: MergeDoc): Promise<void> {
    if (merge.state !== 'applied' || merge.announcedAt) return;
    const event = CustomerMerged.fromPartial({
      mergeId: merge._id,
      targetCustomerId: merge.targetId,
      sourceCustomerId: merge.sourceId,
      mergedAt: merge.at,
      cause: merge.cause ?? 'supervisor',
    });
    await this.producer.publish(topics.customerMerges, merge.targetId, event, { id: merge._id, time: merge.at });
    await this.merges.updateOne({ _id: merge._id }, { $set: { announcedAt: new Date() } });
  }
}
