// Delivery claims in a channel service's own collection. The claim is the insert itself: the
// local store loses concurrent updates of one document, but a unique `_id` insert is safe, so a
// duplicate-key answer is the only "someone else has it" there is. Later updates come only from
// the claim's holder, one at a time.
import { MongoServerError, type Collection } from 'mongodb';
import type { Claimer, DeliveryClaims, DeliveryRecord } from './index';

export class MongoDeliveryClaims implements DeliveryClaims {
  constructor(
    private readonly collection: Collection<DeliveryRecord>,
    readonly claimer: Claimer,
  ) {}

  async claim(id: string, at: Date): Promise<'claimed' | DeliveryRecord> {
    try {
      await this.collection.insertOne({ _id: id, state: 'sending', claimedAt: at, claimedBy: this.claimer });
      return 'claimed';
    } catch (err) {
      if (!(err instanceof MongoServerError) || err.code !== 11000) throw err;
    }
    const existing = await this.find(id);
    // Released between our insert and this read: claim again.
    return existing ?? this.claim(id, at);
  }

  async find(id: string): Promise<DeliveryRecord | undefined> {
    return (await this.collection.findOne({ _id: id })) ?? undefined;
  }

  async markSent(id: string, providerId: string, at: Date): Promise<void> {
    await this.collection.updateOne({ _id: id }, { $set: { state: 'sent', providerId, finishedAt: at } });
  }

  async markFailed(id: string, errorCode: string, detail: string, at: Date): Promise<void> {
    await this.collection.updateOne({ _id: id }, { $set: { state: 'failed', errorCode, detail, finishedAt: at } });
  }

  async markUncertain(id: string, detail: string, at: Date): Promise<void> {
    await this.collection.updateOne({ _id: id }, { $set: { state: 'uncertain', detail, finishedAt: at } });
  }

  async release(id: string): Promise<void> {
    await this.collection.deleteOne({ _id: id });
  }
}
