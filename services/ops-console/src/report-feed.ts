// The reports' consumer: the conversation and SLA topics from their beginning, in a consumer
// group of this instance's own that commits nothing, into the in-memory fold. Every start (and
// every instance) rebuilds the same figures from the topics. With the erasure key it first reads
// cc.erasure.v1 to the end it had at start, so the rebuild never holds an erased customer's ids,
// not even for a moment, then tails it and has the fold forget each new erasure.
import type { Kafka } from 'kafkajs';
import { ErasureReader, ErasureSet, type ErasureNotice } from '#libs/erasure';
import { topics } from '#libs/kafka';
import type { Logger } from '#libs/observability';
import { deleteGroup, startThrowAwayConsumer } from './kafka-io';
import { describeRecord } from './records';
import { ReportFold } from './reports';

export interface ReportFeed {
  fold: ReportFold;
  stop(): Promise<void>;
}

/** `onErasures` is told the erasures known after each pass, for the console's other views to forget them too. */
export async function startReportFeed(
  kafka: Kafka,
  log: Logger,
  erasureKey: string | undefined,
  onErasures: (known: ErasureSet) => void = () => {},
): Promise<ReportFeed> {
  const fold = new ReportFold();
  const erasures = erasureKey ? await foldErasures(kafka, log, erasureKey, fold, onErasures) : undefined;
  if (!erasures) log.warn('ERASURE_KEY is not set: the reports keep erased customers’ conversation and customer ids');
  const topicNames = [topics.conversationEvents.name, topics.sla.name];
  const { groupId, consumer } = await startThrowAwayConsumer(kafka, 'ops-console-reports-', topicNames, true, (raw) => {
    const record = describeRecord(raw);
    // A record that does not decode is the dead-letter screen's business; the reports skip it, said once per record.
    if (record.error) log.warn({ topic: raw.topic, partition: raw.partition, offset: raw.offset, error: record.error }, 'record left out of the reports');
    else fold.add(record);
  });
  return {
    fold,
    stop: async () => {
      await consumer.disconnect();
      await deleteGroup(kafka, groupId);
      await erasures?.stop();
    },
  };
}

/**
 * Records of one erasure (the customer, their identities, their conversations) arriving while the
 * topic is tailed wait this long for the rest, so the fold makes one pass over all it keeps for them.
 */
const ERASURE_PASS_DELAY_MS = 250;

/** Every erasure known, in one set the fold checks the records against; resolves once what the topic held at start is in it. */
async function foldErasures(
  kafka: Kafka,
  log: Logger,
  erasureKey: string,
  fold: ReportFold,
  onErasures: (known: ErasureSet) => void,
): Promise<{ stop(): Promise<void> }> {
  const known = new ErasureSet(erasureKey);
  fold.forget(known);
  const apply = (notices: ErasureNotice[], initial: boolean) => {
    for (const n of notices) known.add(n.subjectKey, n.erasedAt);
    const { conversations, customerTraces } = fold.forget(known);
    if (conversations || customerTraces) log.info({ initial, conversations, customerTraces }, 'erased customers’ ids dropped from the reports');
    onErasures(known);
  };
  let waiting: ErasureNotice[] = [];
  let pass: NodeJS.Timeout | undefined;
  // Group `ops-console-reports-erasures-<uuid>`: the console's own, left out of the lag and deleted on stop.
  const reader = new ErasureReader(kafka, log, 'ops-console-reports', (notices, initial) => {
    if (notices.length === 0) return;
    if (initial) return apply(notices, true);
    // Until the pass the fold goes on as before the erasure (`known` unchanged), so what it holds
    // is all under ids or all under pseudonyms when the pass moves it.
    waiting.push(...notices);
    pass ??= setTimeout(() => {
      pass = undefined;
      const batch = waiting;
      waiting = [];
      apply(batch, false);
    }, ERASURE_PASS_DELAY_MS);
  });
  await reader.start();
  return {
    stop: async () => {
      clearTimeout(pass);
      await reader.stop();
    },
  };
}
