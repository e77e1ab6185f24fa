// Files a channel service keeps for agents to open later (mailed attachments, chat uploads), in
// the service's own collection, once per distinct content: keyed by the content's sha256 and
// referenced on events as `<channel>-attachment:<sha256>`.
import { Binary, type Collection, type Db } from 'mongodb';

interface StoredAttachment {
  _id: string; // sha256
  contentType: string;
  size: number;
  data: Binary;
}

export class AttachmentFiles {
  private readonly files: Collection<StoredAttachment>;

  constructor(
    db: Db,
    collection: string,
    private readonly channel: 'email' | 'chat',
  ) {
    this.files = db.collection(collection);
  }

  /** Keeps the content once; returns where it is. */
  async store(sha256: string, contentType: string, content: Buffer): Promise<string> {
    await this.files.updateOne({ _id: sha256 }, { $setOnInsert: { contentType, size: content.length, data: new Binary(content) } }, { upsert: true });
    return `${this.channel}-attachment:${sha256}`;
  }

  async find(sha256: string): Promise<{ contentType: string; content: Buffer } | undefined> {
    const found = await this.files.findOne({ _id: sha256 });
    return found ? { contentType: found.contentType, content: Buffer.from(found.data.buffer) } : undefined;
  }
}
