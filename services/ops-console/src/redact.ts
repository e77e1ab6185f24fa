// What each role may see of an event. Ops teams run the pipeline and never need what customers
// or agents wrote, nor who the customers are; supervisors coach agents and read conversations.
// Applied on the server to every record before it is sent, so contents never reach an ops
// browser at all.
//
// For ops, a text field is shown only when it is on the list below: ids, queues, codes, enum
// names, times and numbers the pipeline itself writes. Everything else, and any field a future
// schema adds, is redacted. Routing's reason text is redacted too: it can quote an email subject
// (repeat contacts), an agent's free-text disposition and a mail server's refusal, which names
// the address; the reason's code, rule and step stay.
import { topicByName } from '#libs/kafka';
import type { DescribedRecord } from './records';

export type ConsoleRole = 'ops' | 'supervisor';
export const REDACTED = '[redacted]';

/** Text fields ops may read: written by the pipeline, naming no customer and quoting no one. */
const SHOWN_TEXT_KEYS = new Set([
  'eventId',
  'contactId',
  'conversationId',
  'customerId',
  'messageId',
  'outboundMessageId',
  'agentId',
  'fromAgentId',
  'toAgentId',
  'expertAgentId',
  'previousAgentId',
  'queue',
  'toQueue',
  'skill',
  'code',
  'rule',
  'whyChosen',
  'errorCode',
  'status',
  'question',
  'language',
  'languages',
  'contentType',
  'sha256',
  'namespace',
  'conversationReference',
  'kind',
  'channel',
  'tier',
  'presence',
  'risk',
]);
/** Times (occurredAt, wrapUpUntil, idleSince...) and 64-bit numbers, which protobuf JSON writes as text. */
const SHOWN_TEXT_SUFFIXES = /(At|Until|Since|Ms|Bytes)$/;
/** Whole objects that are contents: a channel's own facts (Message-ID, Twilio numbers...). */
const WITHHELD_OBJECTS = new Set(['channelMetadata']);

function shownText(key: string, parent: string | undefined, depth: number): boolean {
  if (SHOWN_TEXT_KEYS.has(key) || SHOWN_TEXT_SUFFIXES.test(key)) return true;
  // An agent's name on their own state record, and skill names; never an attachment's name.
  return key === 'name' && (depth === 0 || parent === 'skills');
}

function redactValue(value: unknown, key: string | undefined, parent: string | undefined, depth: number): unknown {
  if (Array.isArray(value)) return value.map((v) => redactValue(v, key, parent, depth));
  if (typeof value === 'string') return key !== undefined && shownText(key, parent, depth - 1) ? value : REDACTED;
  if (value === null || typeof value !== 'object') return value;
  if (key !== undefined && WITHHELD_OBJECTS.has(key)) return REDACTED;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) out[k] = redactValue(v, k, key, depth + 1);
  return out;
}

/** The protobuf JSON of one event with everything written by people, and every identity, replaced. */
export function redactEvent(event: unknown): unknown {
  return redactValue(event, undefined, undefined, 0);
}

/**
 * The record as the given role may see it. For ops a dead letter's original bytes are kept only
 * when they do not decode as their topic's message (garbage is what ops must diagnose); when
 * they do decode, ops gets the redacted event, the size and a digest instead of the bytes.
 */
export function redactForRole<T extends DescribedRecord>(record: T, role: ConsoleRole): T {
  if (role === 'supervisor') return record;
  const copy: T = { ...record };
  if (copy.event !== undefined) copy.event = redactEvent(copy.event);
  if (copy.deadLetter && decodesAsOriginal(copy.deadLetter)) {
    const { valueBase64: _bytes, ...rest } = copy.deadLetter;
    copy.deadLetter = { ...rest, valueBase64: '', withheld: 'the original bytes decode as a message; its contents are not shown to ops' } as typeof rest & {
      valueBase64: string;
    };
  }
  return copy;
}

/** True when a dead letter's bytes are a readable message of its original topic. */
function decodesAsOriginal(deadLetter: { topic?: string; valueBase64: string }): boolean {
  const spec = deadLetter.topic ? topicByName(deadLetter.topic) : undefined;
  if (!spec || !deadLetter.valueBase64) return false;
  try {
    spec.codec.decode(Buffer.from(deadLetter.valueBase64, 'base64'));
    return true;
  } catch {
    return false;
  }
}
