// Dead letters as the console shows them, and how one is put back: the original bytes with the
// original key and headers, to the topic it came from. Pure: the server reads and writes Kafka.
import { createHash } from 'node:crypto';
import type { IHeaders } from 'kafkajs';
import { DEAD_LETTER_TOPIC, headerString, topicByName } from '#libs/kafka';
import { redactEvent, type ConsoleRole } from './redact';
import type { RawRecord } from './records';

/** Hex is for reading by eye; past this many bytes only base64 carries the whole value. */
export const HEX_PREVIEW_BYTES = 2048;

export interface DeadLetterView {
  /** Where the dead letter itself is: the id used to replay it. */
  partition: number;
  offset: string;
  key: string | null;
  reason: string;
  detail: string;
  consumerGroup?: string;
  attempts?: number;
  deadLetteredAt?: string;
  original: { topic: string; partition?: number; offset?: string };
  ceType?: string;
  ceId?: string;
  size: number;
  sha256: string;
  /** The original bytes; withheld from ops when they decode as a message (then `event` is shown redacted). */
  valueHex?: string;
  hexTruncated?: boolean;
  valueBase64?: string;
  event?: unknown;
  decodeError?: string;
  /** Replays of this record, newest last (filled from the audit). */
  replays?: { by: string; at: string }[];
}

export class ReplayError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ReplayError';
  }
}

const num = (s: string | undefined) => (s !== undefined && /^\d+$/.test(s) ? Number(s) : undefined);

export function shapeDeadLetter(raw: RawRecord): DeadLetterView {
  const header = (name: string) => headerString(raw.headers, name);
  const value = raw.value ?? Buffer.alloc(0);
  const originalTopic = header('dlq_topic') ?? '';
  const view: DeadLetterView = {
    partition: raw.partition,
    offset: raw.offset,
    key: raw.key?.toString('utf8') ?? null,
    reason: header('dlq_reason') ?? 'unknown',
    detail: header('dlq_detail') ?? '',
    consumerGroup: header('dlq_consumer_group'),
    attempts: num(header('dlq_attempts')),
    deadLetteredAt: header('dlq_time'),
    original: { topic: originalTopic, partition: num(header('dlq_partition')), offset: header('dlq_offset') },
    ceType: header('ce_type'),
    ceId: header('ce_id'),
    size: value.length,
    sha256: createHash('sha256').update(value).digest('hex'),
    valueHex: value.subarray(0, HEX_PREVIEW_BYTES).toString('hex'),
    hexTruncated: value.length > HEX_PREVIEW_BYTES,
    valueBase64: value.toString('base64'),
  };
  const spec = topicByName(originalTopic);
  if (!spec) view.decodeError = originalTopic ? `unknown topic ${originalTopic}` : 'no dlq_topic header';
  else if (value.length === 0) view.decodeError = 'record has no value';
  else {
    try {
      view.event = spec.codec.toJSON(spec.codec.decode(value));
    } catch (err) {
      view.decodeError = err instanceof Error ? err.message : String(err);
    }
  }
  return view;
}

/** What a role sees of a dead letter: ops never gets bytes that decode into readable content. */
export function deadLetterForRole(view: DeadLetterView, role: ConsoleRole): DeadLetterView {
  if (role === 'supervisor') return view;
  if (view.event === undefined) return view;
  const { valueHex: _hex, valueBase64: _b64, hexTruncated: _t, ...rest } = view;
  return { ...rest, event: redactEvent(view.event) };
}

export interface ReplayPlan {
  topic: string;
  key: string | null;
  value: Buffer;
  headers: IHeaders;
}

/** The record to write back: original topic, key, bytes and headers, without the dlq_* ones. */
export function replayPlan(raw: RawRecord): ReplayPlan {
  if (raw.topic !== DEAD_LETTER_TOPIC) throw new ReplayError(`record is on ${raw.topic}, not the dead-letter topic`);
  const topic = headerString(raw.headers, 'dlq_topic');
  if (!topic) throw new ReplayError('dead letter has no dlq_topic header: its original topic is unknown');
  if (topic === DEAD_LETTER_TOPIC || !topicByName(topic)) throw new ReplayError(`original topic ${topic} is not a pipeline topic`);
  const headers: IHeaders = {};
  for (const [name, v] of Object.entries(raw.headers ?? {})) if (!name.startsWith('dlq_') && v !== undefined) headers[name] = v;
  return { topic, key: raw.key?.toString('utf8') ?? null, value: raw.value ?? Buffer.alloc(0), headers };
}
