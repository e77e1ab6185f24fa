// Turns any record of the pipeline's topics into one plain JSON object: where it is, what the
// CloudEvents headers say it is, the trace it belongs to, and the decoded event (or why it could not be decoded).
import type { IHeaders } from 'kafkajs';
import { DEAD_LETTER_TOPIC, headerString, topicByName } from '#libs/kafka';
import { traceIdOf } from './trace-links';

export interface RawRecord {
  topic: string;
  partition: number;
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  headers?: IHeaders;
}

export interface DescribedRecord {
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  id?: string;
  type?: string;
  source?: string;
  time?: string;
  /** The trace the record belongs to, from its traceparent header. */
  traceId?: string;
  /** The event as protobuf JSON. */
  event?: unknown;
  /** Dead letters: why, and the original bytes. */
  deadLetter?: { reason?: string; detail?: string; topic?: string; partition?: string; offset?: string; group?: string; valueBase64: string };
  error?: string;
}

export function describeRecord(record: RawRecord): DescribedRecord {
  const header = (name: string) => headerString(record.headers, name);
  const described: DescribedRecord = {
    topic: record.topic,
    partition: record.partition,
    offset: record.offset,
    key: record.key?.toString('utf8') ?? null,
    id: header('ce_id'),
    type: header('ce_type'),
    source: header('ce_source'),
    time: header('ce_time'),
  };
  const traceId = traceIdOf(header('traceparent'));
  if (traceId) described.traceId = traceId;
  if (record.topic === DEAD_LETTER_TOPIC) {
    described.deadLetter = {
      reason: header('dlq_reason'),
      detail: header('dlq_detail'),
      topic: header('dlq_topic'),
      partition: header('dlq_partition'),
      offset: header('dlq_offset'),
      group: header('dlq_consumer_group'),
      valueBase64: (record.value ?? Buffer.alloc(0)).toString('base64'),
    };
    return described;
  }
  const spec = topicByName(record.topic);
  if (!spec) return { ...described, error: `unknown topic ${record.topic}` };
  if (described.type && described.type !== spec.type) return { ...described, error: `ce_type ${described.type} is not ${spec.type}` };
  try {
    described.event = spec.codec.toJSON(spec.codec.decode(record.value ?? Buffer.alloc(0)));
  } catch (err) {
    described.error = `undecodable: ${err instanceof Error ? err.message : String(err)}`;
  }
  return described;
}

/** The conversation a record belongs to: its key on every conversation-keyed topic. */
export function conversationOf(record: DescribedRecord): string | undefined {
  const event = record.event as { conversationId?: string } | undefined;
  return event?.conversationId ?? (record.topic === 'cc.agent.state.v1' ? undefined : (record.key ?? undefined));
}
