// Files a channel service keeps for agents to open later (mailed attachments, chat uploads), in
// the service's own collection, once per distinct content: keyed by the content's sha256 and
// referenced on events as `<channel>-attachment:<sha256>`. Which conversation uses which content
// is kept beside it (`<collection>_uses`), so an erasure deletes a content no other conversation
// still uses.
import { Binary, type Collection, type Db } from 'mongodb';
import { keptOf } from './index';

interface StoredAttachment {
  _id: string; // sha256
  contentType: string;
  size: number;
  data: Binary;
}

/** One conversation's use of a content: `<sha256>|<conversation id>`. */
interface AttachmentUse {
  _id: string;
  sha256: string;
  conversationId: string;
  at: Date;
}

export class AttachmentFiles {
  private readonly files: Collection<StoredAttachment>;
  private readonly uses: Collection<AttachmentUse>;

  constructor(
    db: Db,
    collection: string,
    private readonly channel: 'email' | 'chat',
  ) {
    this.files = db.collection(collection);
    this.uses = db.collection(`${collection}_uses`);
  }

  /**
   * Keeps the content once; returns where it is. With a conversation, its use is recorded first,
   * so an erasure of another conversation that shares the content never finds it unused.
   */
  async store(sha256: string, contentType: string, content: Buffer, conversationId?: string): Promise<string> {
    if (conversationId) await this.used(sha256, conversationId);
    await this.files.updateOne({ _id: sha256 }, { $setOnInsert: { contentType, size: content.length, data: new Binary(content) } }, { upsert: true });
    return `${this.channel}-attachment:${sha256}`;
  }

  /** A conversation uses a content kept earlier (a reply's file, uploaded before it was sent). */
  async used(sha256: string, conversationId: string, at = new Date()): Promise<void> {
    await this.uses.updateOne({ _id: `${sha256}|${conversationId}` }, { $setOnInsert: { sha256, conversationId, at } }, { upsert: true });
  }

  async find(sha256: string): Promise<{ contentType: string; content: Buffer } | undefined> {
    const found = await this.files.findOne({ _id: sha256 });
    return found ? { contentType: found.contentType, content: Buffer.from(found.data.buffer) } : undefined;
  }

  /**
   * Drops the uses for which `erased` says yes, then every content they named that no
   * remaining use names. A content no conversation ever used (an upload never sent) is kept.
   */
  async erase(erased: (conversationId: string, at: Date) => boolean): Promise<{ attachmentUses: number; attachments: number }> {
    const gone = await keptOf(this.uses.find({}), (u) => erased(u.conversationId, u.at));
    if (gone.length === 0) return { attachmentUses: 0, attachments: 0 };
    const uses = await this.uses.deleteMany({ _id: { $in: gone.map((u) => u._id) } });
    // Asked after the uses went: a content another conversation uses (or took meanwhile) stays.
    const contents = [...new Set(gone.map((u) => u.sha256))];
    const stillUsed = new Set((await this.uses.find({ sha256: { $in: contents } }, { projection: { sha256: 1 } }).toArray()).map((u) => u.sha256));
    const toDelete = contents.filter((sha) => !stillUsed.has(sha));
    const files = toDelete.length ? await this.files.deleteMany({ _id: { $in: toDelete } }) : undefined;
    return { attachmentUses: uses.deletedCount, attachments: files?.deletedCount ?? 0 };
  }
}
