// The paged listings, newest first: a customer's history and the audit log. A page token holds
// the last row shown, so a page stays right while new rows arrive.
import type { Collection, Filter } from 'mongodb';
import { Channel, type Attachment } from '#libs/proto';
import type { HistoryRecord } from '../history';
import { decodePageToken, encodePageToken } from './page-token';
import type { AuditDoc, Collections } from './records';

interface Page<T> {
  entries: T[];
  nextPageToken: string;
}

export class PagedReads {
  constructor(private readonly c: Collections) {}

  historyPage(customerId: string, pageSize: number, pageToken: string, channel: Channel, conversationId: string): Promise<Page<HistoryRecord>> {
    const filter: Filter<HistoryRecord> = { customerId };
    if (channel !== Channel.CHANNEL_UNSPECIFIED) filter.channel = channel;
    if (conversationId) filter.conversationId = conversationId;
    return newestPage(this.c.history, filter, 'occurredAt', pageSize, pageToken);
  }

  /** The file as a message of this customer's conversation carried it; undefined when none did. */
  async attachmentOf(customerId: string, conversationId: string, storageRef: string): Promise<Attachment | undefined> {
    // history_by_conversation finds the conversation's entries; the file is matched in them.
    const entries = await this.c.history.find({ conversationId, customerId }, { projection: { attachments: 1 } }).toArray();
    for (const e of entries) {
      const found = e.attachments?.find((a) => a.storageRef === storageRef);
      if (found) return found;
    }
    return undefined;
  }

  listAudit(customerId: string, actorId: string, pageSize: number, pageToken: string): Promise<Page<AuditDoc>> {
    const filter: Filter<AuditDoc> = {};
    if (customerId) filter.customerId = customerId;
    if (actorId) filter.actorId = actorId;
    return newestPage(this.c.audit, filter, 'at', pageSize, pageToken);
  }
}

/** One page of rows newest first by `field` (then by _id, for rows of the same moment). */
async function newestPage<T extends { _id: string }>(
  collection: Collection<T>,
  filter: Filter<T>,
  field: 'occurredAt' | 'at',
  pageSize: number,
  pageToken: string,
): Promise<Page<T>> {
  if (pageToken) {
    const cursor = decodePageToken(pageToken);
    filter.$or = [{ [field]: { $lt: cursor.at } }, { [field]: cursor.at, _id: { $lt: cursor.id } }] as NonNullable<Filter<T>['$or']>;
  }
  const rows = (await collection
    .find(filter)
    .sort({ [field]: -1, _id: -1 })
    .limit(pageSize + 1)
    .toArray()) as T[];
  const entries = rows.slice(0, pageSize);
  const last = entries[entries.length - 1] as (T & Record<typeof field, Date>) | undefined;
  return { entries, nextPageToken: rows.length > pageSize && last ? encodePageToken(last[field], last._id) : '' };
}
