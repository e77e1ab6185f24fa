// The live views (the feed's backlogs, the charts' waits) forget erased customers too: what the
// console remembers of the live tail for a stream opened later, not only the reports. The check
// is a keyed hash per conversation and per customer, once each per pass. Records of an erased
// conversation or customer the tail reads afterwards (a late one) are passed by, and a timeline,
// which reads the topics, is refused for an erased conversation.
import type { ErasureSet } from '#libs/erasure';
import type { ChartAggregator } from './charts';
import type { LiveFeed } from './live-feed';
import { conversationOf, type DescribedRecord } from './records';

/** Drops from the live views every event of a conversation or customer `known` names; how many events went. */
export function forgetInLiveViews(known: ErasureSet, feed: LiveFeed, charts: ChartAggregator): number {
  const conversationErased = memo((id) => known.erasedAtOf('conversation', id) !== undefined);
  const customerErased = memo((id) => known.erasedAtOf('customer', id) !== undefined);
  // A conversation whose events name an erased customer goes from the charts too.
  const ofErasedCustomers = new Set<string>();
  const gone = feed.forget(({ record }) => {
    const { conversationId, customerId } = subjectsOf(record);
    if (conversationId && conversationErased(conversationId)) return true;
    if (!customerId || !customerErased(customerId)) return false;
    if (conversationId) ofErasedCustomers.add(conversationId);
    return true;
  });
  charts.forget((id) => ofErasedCustomers.has(id) || conversationErased(id));
  return gone;
}

/** The record is of a conversation or a customer `known` names. */
export function ofErased(known: ErasureSet, record: DescribedRecord): boolean {
  if (known.size === 0) return false;
  const { conversationId, customerId } = subjectsOf(record);
  return (
    (!!conversationId && known.erasedAtOf('conversation', conversationId) !== undefined) ||
    (!!customerId && known.erasedAtOf('customer', customerId) !== undefined)
  );
}

/** The conversation and the customer a record names, where it names them. */
function subjectsOf(record: DescribedRecord): { conversationId?: string; customerId?: string } {
  const customerId = (record.event as { customerId?: unknown } | undefined)?.customerId;
  return { conversationId: conversationOf(record), customerId: typeof customerId === 'string' && customerId !== '' ? customerId : undefined };
}

function memo(erased: (id: string) => boolean): (id: string) => boolean {
  const known = new Map<string, boolean>();
  return (id) => {
    let answer = known.get(id);
    if (answer === undefined) known.set(id, (answer = erased(id)));
    return answer;
  };
}
