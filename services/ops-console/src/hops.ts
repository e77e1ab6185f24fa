// A conversation's latency by hop, from its events' own times: when the contact was received,
// queued, offered to an agent, accepted, answered and the answer delivered, and the time from
// each hop to the next. Pure: the timeline's records in, the hops out.
import type { DescribedRecord } from './records';

const HOPS = ['received', 'queued', 'offered', 'accepted', 'replied', 'delivered'] as const;
export type HopName = (typeof HOPS)[number];

export interface Hop {
  hop: HopName;
  /** ISO time of the hop's first event. */
  at: string;
  /** Since the previous hop that happened (null for the first). */
  sincePreviousMs: number | null;
  /** Since the contact was received (null when its receipt is not among the records). */
  sinceReceivedMs: number | null;
}

type EventJson = Record<string, unknown> & { occurredAt?: string; receivedAt?: string };

/** The hop one record marks, if any. */
function hopOf(record: DescribedRecord, event: EventJson): HopName | undefined {
  if (record.topic === 'cc.contact.inbound.v1') return 'received';
  if (record.topic !== 'cc.conversation.events.v1') return undefined;
  if (event.queued) return 'queued';
  if (event.offered) return 'offered';
  if (event.assigned) return 'accepted';
  if (event.replied) return 'replied';
  const report = event.deliveryReported as { delivered?: boolean } | undefined;
  return report?.delivered ? 'delivered' : undefined;
}

function timeOf(record: DescribedRecord, event: EventJson): number {
  return Date.parse(event.receivedAt ?? event.occurredAt ?? record.time ?? '');
}

/**
 * The first time of each hop, in the order of a contact's journey. A delivery counts only once
 * an answer was given: the automatic acknowledgement delivered before it is not the answer.
 */
export function conversationHops(records: DescribedRecord[]): Hop[] {
  const first = new Map<HopName, number>();
  const answers = new Set<string>();
  const events = records
    .map((record) => ({ record, event: (record.event ?? {}) as EventJson }))
    .map((r) => ({ ...r, at: timeOf(r.record, r.event) }))
    .filter((r) => Number.isFinite(r.at))
    .sort((a, b) => a.at - b.at);
  for (const { record, event, at } of events) {
    const hop = hopOf(record, event);
    if (!hop || first.has(hop)) continue;
    const replied = event.replied as { outboundMessageId?: string } | undefined;
    if (replied?.outboundMessageId) answers.add(replied.outboundMessageId);
    if (hop === 'delivered') {
      const id = (event.deliveryReported as { outboundMessageId?: string }).outboundMessageId;
      if (!first.has('replied') || (answers.size > 0 && id && !answers.has(id))) continue;
    }
    first.set(hop, at);
  }
  const received = first.get('received');
  let previous: number | undefined;
  const hops: Hop[] = [];
  for (const hop of HOPS) {
    const at = first.get(hop);
    if (at === undefined) continue;
    hops.push({
      hop,
      at: new Date(at).toISOString(),
      sincePreviousMs: previous === undefined ? null : at - previous,
      sinceReceivedMs: received === undefined ? null : at - received,
    });
    previous = at;
  }
  return hops;
}
