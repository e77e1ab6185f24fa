// What the topics and the store say happened, not what the services said: every accepted contact
// on cc.contact.inbound.v1 once, in its customer's history, its conversation queued once and
// assigned at most once, every outbound message delivered at most once, and the dead letters.
import { Kafka, logLevel, type IHeaders } from 'kafkajs';
import { MongoClient } from 'mongodb';
import { DEAD_LETTER_TOPIC, topics, type TopicSpec } from '#libs/kafka';
import { Channel, type OutboundMessage } from '#libs/proto';
import type { Accepted } from './load';
import type { Outbox } from './outbox';

const MARKER = /chaos-[a-z0-9]+-(?:email|sms|chat)-\d+/;

export interface DeadLetter {
  reason: string;
  detail: string;
  group: string;
  topic: string;
  at: number;
}

export interface Findings {
  /** Markers with no contact on the inbound topic. */
  missingContacts: string[];
  /** Markers that became more than one contact. */
  doubledContacts: string[];
  /** Accepted contacts whose history entry is missing. */
  missingHistory: string[];
  /** Conversations opened by accepted contacts that were never queued. */
  neverQueued: string[];
  queuedTwice: string[];
  assignedTwice: string[];
  /** Outbound messages that reached the customer more than once, with when the extra copy arrived. */
  deliveredTwice: { id: string; at: number }[];
  deadLetters: DeadLetter[];
}

/** Every record of a topic up to its current end, read by a group of its own. */
async function readTopic<T>(kafka: Kafka, name: string, decode: (value: Buffer, headers: Record<string, string>) => T | undefined): Promise<T[]> {
  const admin = kafka.admin();
  await admin.connect();
  const ends = await admin.fetchTopicOffsets(name);
  await admin.disconnect();
  const remaining = new Map(ends.filter((p) => Number(p.high) > Number(p.low)).map((p) => [p.partition, Number(p.high)]));
  const out: T[] = [];
  if (remaining.size === 0) return out;
  const consumer = kafka.consumer({ groupId: `chaos-verdict-${name}-${Date.now()}`, maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topic: name, fromBeginning: true });
  // A partition written in transactions ends with a commit marker, which is never delivered as a
  // message: reading stops at the end offsets, or once nothing more has come for 5 s.
  let lastRecordAt = Date.now();
  const finished = new Promise<void>((resolve) => {
    const check = setInterval(() => {
      if (remaining.size > 0 && Date.now() - lastRecordAt < 5000) return;
      clearInterval(check);
      resolve();
    }, 100);
  });
  await consumer.run({
    eachMessage: async ({ partition, message }) => {
      lastRecordAt = Date.now();
      const value = decode(message.value ?? Buffer.alloc(0), flatHeaders(message.headers));
      if (value !== undefined) out.push(value);
      if (Number(message.offset) + 1 >= (remaining.get(partition) ?? 0)) remaining.delete(partition);
    },
  });
  await finished;
  await consumer.disconnect();
  return out;
}

/** The topic's events; a record of another type is not one of them. */
const eventsOf =
  <T>(spec: TopicSpec<T>) =>
  (value: Buffer, headers: Record<string, string>): T | undefined =>
    headers.ce_type === spec.type ? spec.codec.decode(value) : undefined;

function flatHeaders(headers: IHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers ?? {})) out[k] = String(Array.isArray(v) ? v[0] : v);
  return out;
}

export async function gatherFindings(options: {
  brokers: string[];
  mongoUri: string;
  database: string;
  accepted: Accepted[];
  outbox: Outbox;
}): Promise<Findings> {
  const kafka = new Kafka({ clientId: 'chaos-verdict', brokers: options.brokers, logLevel: logLevel.NOTHING });
  const contacts = await readTopic(kafka, topics.contactInbound.name, eventsOf(topics.contactInbound));
  const events = await readTopic(kafka, topics.conversationEvents.name, eventsOf(topics.conversationEvents));
  const outbound = await readTopic(kafka, topics.outbound.name, eventsOf(topics.outbound));
  const dead = await readTopic(kafka, DEAD_LETTER_TOPIC, (_value, headers) => headers);

  const contactsByMarker = new Map<string, Set<string>>();
  const conversationOf = new Map<string, string>();
  const opened = new Set<string>();
  for (const c of contacts) {
    const marker = MARKER.exec(c.text)?.[0];
    if (!marker) continue;
    (contactsByMarker.get(marker) ?? contactsByMarker.set(marker, new Set()).get(marker)!).add(c.contactId);
    conversationOf.set(marker, c.conversationId);
    if (c.newConversation) opened.add(c.conversationId);
  }
  const steps = new Map<string, { queued: Set<string>; assigned: Set<string> }>();
  for (const e of events) {
    const kind = e.step?.$case;
    if (kind !== 'queued' && kind !== 'assigned') continue;
    // An offer open at a routing take-over is revoked and queued again (restart.offer_revoked):
    // only the conversation's entry into the queue counts as its queueing.
    if (kind === 'queued' && e.reason?.code !== 'conversation.new') continue;
    const s = steps.get(e.conversationId) ?? steps.set(e.conversationId, { queued: new Set(), assigned: new Set() }).get(e.conversationId)!;
    s[kind].add(e.eventId);
  }

  const acceptedMarkers = [...new Set(options.accepted.map((a) => a.marker))];
  const missingContacts = acceptedMarkers.filter((m) => !contactsByMarker.has(m));
  const doubledContacts = acceptedMarkers.filter((m) => (contactsByMarker.get(m)?.size ?? 0) > 1);
  const conversations = new Set(acceptedMarkers.map((m) => conversationOf.get(m)).filter((c): c is string => !!c && opened.has(c)));
  const neverQueued = [...conversations].filter((c) => (steps.get(c)?.queued.size ?? 0) === 0);
  const queuedTwice = [...conversations].filter((c) => (steps.get(c)?.queued.size ?? 0) > 1);
  const assignedTwice = [...conversations].filter((c) => (steps.get(c)?.assigned.size ?? 0) > 1);

  const contactIds = acceptedMarkers.flatMap((m) => [...(contactsByMarker.get(m) ?? [])].map((id) => ({ m, id })));
  const mongo = await new MongoClient(options.mongoUri).connect();
  const inHistory = new Set<string>();
  try {
    const history = mongo.db(options.database).collection<{ _id: string }>('history');
    for (let i = 0; i < contactIds.length; i += 500) {
      const ids = contactIds.slice(i, i + 500).map(({ id }) => `contact:${id}`);
      for (const doc of await history.find({ _id: { $in: ids } }, { projection: { _id: 1 } }).toArray()) inHistory.add(doc._id);
    }
  } finally {
    await mongo.close();
  }
  const missingHistory = [...new Set(contactIds.filter(({ id }) => !inHistory.has(`contact:${id}`)).map(({ m }) => m))];

  return {
    missingContacts,
    doubledContacts,
    missingHistory,
    neverQueued,
    queuedTwice,
    assignedTwice,
    deliveredTwice: deliveredTwice(outbound, options.outbox),
    deadLetters: dead.map((headers) => ({
      reason: headers.dlq_reason ?? '',
      detail: headers.dlq_detail ?? '',
      group: headers.dlq_consumer_group ?? '',
      topic: headers.dlq_topic ?? '',
      at: Date.parse(headers.dlq_time ?? ''),
    })),
  };
}

/**
 * Mail carries a Message-ID of its own per outbound message, so a second copy is the same
 * Message-ID twice. An SMS carries nothing of ours: a text sent more often than outbound messages
 * asked for it is a double.
 */
function deliveredTwice(outbound: OutboundMessage[], outbox: Outbox): { id: string; at: number }[] {
  const out: { id: string; at: number }[] = [];
  const seen = new Set<string>();
  for (const mail of outbox.mails) {
    if (seen.has(mail.messageId)) out.push({ id: mail.messageId, at: mail.at });
    seen.add(mail.messageId);
  }
  const asked = new Map<string, Set<string>>();
  for (const o of outbound) if (o.channel === Channel.CHANNEL_SMS) (asked.get(o.text) ?? asked.set(o.text, new Set()).get(o.text)!).add(o.messageId);
  const sent = new Map<string, number>();
  for (const sms of outbox.sms) {
    const n = (sent.get(sms.body) ?? 0) + 1;
    sent.set(sms.body, n);
    // A long text goes out in parts: a part is asked for by the messages that contain it.
    const askedFor = asked.get(sms.body)?.size ?? outbound.filter((o) => o.channel === Channel.CHANNEL_SMS && o.text.includes(sms.body)).length;
    if (n > askedFor) out.push({ id: `sms:${sms.body.slice(0, 40)}`, at: sms.at });
  }
  return out;
}

/** Each consumer group's members, their partitions and how far each partition's commits trail its end. */
export async function describeGroups(brokers: string[]): Promise<string> {
  const kafka = new Kafka({ clientId: 'chaos-groups', brokers, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  try {
    const lines: string[] = [];
    const { groups } = await admin.listGroups();
    const described = await admin.describeGroups(groups.map((g) => g.groupId));
    for (const g of described.groups) {
      lines.push(`group ${g.groupId} ${g.state} members ${g.members.length}`);
      for (const m of g.members) lines.push(`  member ${m.clientId} ${m.memberId.slice(-8)} ${m.clientHost}`);
      for (const { topic, partitions } of await admin.fetchOffsets({ groupId: g.groupId })) {
        const ends = new Map((await admin.fetchTopicOffsets(topic)).map((p) => [p.partition, p.high]));
        for (const p of partitions) lines.push(`  ${topic}/${p.partition} committed ${p.offset} end ${ends.get(p.partition)}`);
      }
    }
    return lines.join('\n') + '\n';
  } finally {
    await admin.disconnect();
  }
}
