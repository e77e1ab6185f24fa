// What each role may see of an event. Ops teams run the pipeline and never need what customers
// or agents wrote; supervisors coach agents and read conversations. Applied on the server to
// every record before it is sent, so contents never reach an ops browser at all.
import { topicByName } from '../../../libs/kafka';
import type { DescribedRecord } from './records';

export type ConsoleRole = 'ops' | 'supervisor';
export const REDACTED = '[redacted]';

/** Fields that hold what a customer or agent wrote, wherever they appear in an event. */
const CONTENT_KEYS = new Set(['subject', 'text', 'quotedText', 'note', 'comment', 'senderDisplayName', 'channelMetadata']);
/** Customer identities (addresses, phone numbers): the `value` of these objects. */
const IDENTITY_KEYS = new Set(['sender', 'recipient', 'identityHints', 'claimedIdentities']);
/** Written by the pipeline, not by people: kept although the key name says "text". */
const KEPT_PATHS = new Set(['reason.text']);

function redactValue(value: unknown, path: string[]): unknown {
  if (Array.isArray(value)) return value.map((v) => redactValue(v, path));
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  const parent = path[path.length - 1];
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
    const here = [...path, key];
    const dotted = here.slice(-2).join('.');
    if (KEPT_PATHS.has(dotted)) out[key] = v;
    else if (CONTENT_KEYS.has(key)) out[key] = REDACTED;
    else if (key === 'name' && parent === 'attachments') out[key] = REDACTED;
    else if (key === 'value' && parent !== undefined && IDENTITY_KEYS.has(parent)) out[key] = REDACTED;
    else out[key] = redactValue(v, here);
  }
  return out;
}

/** The protobuf JSON of one event with every piece of written content replaced. */
export function redactEvent(event: unknown): unknown {
  return redactValue(event, []);
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
    copy.deadLetter = { ...rest, valueBase64: '', withheld: 'the original bytes decode as a message; its contents are not shown to ops' } as typeof rest & { valueBase64: string };
  }
  return copy;
}

/** True when a dead letter's bytes are a readable message of its original topic. */
export function decodesAsOriginal(deadLetter: { topic?: string; valueBase64: string }): boolean {
  const spec = deadLetter.topic ? topicByName(deadLetter.topic) : undefined;
  if (!spec || !deadLetter.valueBase64) return false;
  try {
    spec.codec.decode(Buffer.from(deadLetter.valueBase64, 'base64'));
    return true;
  } catch {
    return false;
  }
}
