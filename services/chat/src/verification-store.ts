// The chat service's verification codes: one document per code sent (only its hash), and one
// per try, claimed by a unique insert so that parallel tries from two instances are all counted.
import { randomBytes } from 'node:crypto';
import type { Collection, Db } from 'mongodb';
import { DAY_MS, HOUR_MS, type PendingCode } from './verification';

export interface CodeDoc extends PendingCode {
  _id: string;
  conversationId: string;
  createdAt: Date;
  usedAt?: Date;
}

interface TryDoc {
  /** `<code id>/<n>`: the n-th try of that code. */
  _id: string;
  codeId: string;
  at: Date;
}

export class VerificationStore {
  readonly codes: Collection<CodeDoc>;
  readonly tries: Collection<TryDoc>;

  constructor(db: Db, prefix = 'chat') {
    this.codes = db.collection<CodeDoc>(`${prefix}_verification_codes`);
    this.tries = db.collection<TryDoc>(`${prefix}_verification_tries`);
  }

  async init(): Promise<void> {
    await Promise.all([
      this.codes.createIndex({ conversationId: 1, createdAt: -1 }),
      this.codes.createIndex({ email: 1, createdAt: -1 }),
      this.tries.createIndex({ codeId: 1 }),
    ]);
  }

  /** When codes were asked for lately: by this conversation (last hour) and for this address (last day). */
  async recentRequests(conversationId: string, email: string, now: Date): Promise<{ byConversation: Date[]; byAddress: Date[] }> {
    const times = (filter: object) =>
      this.codes
        .find(filter, { projection: { createdAt: 1 } })
        .toArray()
        .then((docs) => docs.map((d) => d.createdAt));
    const [byConversation, byAddress] = await Promise.all([
      times({ conversationId, createdAt: { $gt: new Date(now.getTime() - HOUR_MS) } }),
      times({ email, createdAt: { $gt: new Date(now.getTime() - DAY_MS) } }),
    ]);
    return { byConversation, byAddress };
  }

  /** Records a code about to be sent; it counts against the limits from now on, sent or not. */
  async addCode(conversationId: string, email: string, hash: string, now: Date, ttlMs: number): Promise<CodeDoc> {
    const doc: CodeDoc = {
      _id: `vc_${randomBytes(12).toString('base64url')}`,
      conversationId,
      email,
      hash,
      createdAt: now,
      expiresAt: new Date(now.getTime() + ttlMs),
    };
    await this.codes.insertOne(doc);
    return doc;
  }

  /** The conversation's newest unused code: asking for a new code replaces the one before. */
  async pendingCode(conversationId: string): Promise<CodeDoc | null> {
    const [newest] = await this.codes.find({ conversationId }).sort({ createdAt: -1 }).limit(1).toArray();
    return newest && !newest.usedAt ? newest : null;
  }

  /** Counts one more try of a code and returns its number (1 for the first). */
  async countTry(codeId: string, max: number, now: Date): Promise<number> {
    let n = (await this.tries.countDocuments({ codeId })) + 1;
    // Past the limit nothing more is written: the answer is "too many" whatever the number.
    for (; n <= max; n++) {
      try {
        await this.tries.insertOne({ _id: `${codeId}/${n}`, codeId, at: now });
        return n;
      } catch (err) {
        if ((err as { code?: number }).code !== 11000) throw err;
      }
    }
    return n;
  }

  async markUsed(codeId: string, now: Date): Promise<void> {
    await this.codes.updateOne({ _id: codeId }, { $set: { usedAt: now } });
  }
}
