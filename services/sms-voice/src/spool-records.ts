// The spool's file format, with no I/O: one record a line, `<crc32 hex> <json>\n`. The checksum
// covers the JSON, so a line torn by a crash mid-write (or damaged on disk) is recognised and
// skipped, and a good line is never read as part of a bad one. A line holds a contact or a
// conversation event (a call's end, a delivery report), which Twilio does not send twice.
import { crc32 } from 'node:zlib';
import { ContactReceived, ConversationEvent } from '#libs/proto';

/** What a spooled record is, and so the topic it goes to. */
export type SpooledKind = 'contact' | 'event';

/** One spooled record, as written: its kind, its ce_id, its Kafka key and its protobuf bytes. */
export interface SpoolRecord {
  kind: SpooledKind;
  id: string;
  key: string;
  spooledAt: string;
  value: Buffer;
}

/** A spooled record ready to publish. */
export type SpooledMessage = { kind: 'contact'; value: ContactReceived } | { kind: 'event'; value: ConversationEvent };

export interface DecodedRecord {
  record: SpoolRecord;
  /** Byte offset just after this record's line in its segment. */
  end: number;
}

export interface SkippedLine {
  offset: number;
  reason: 'torn' | 'checksum' | 'malformed';
  /** What was wrong, without the line's content (it holds customer data). */
  detail: string;
}

const NEWLINE = 0x0a;

export function spoolRecordOf(contact: ContactReceived, at: Date): SpoolRecord {
  return {
    kind: 'contact',
    id: contact.contactId,
    key: contact.conversationId,
    spooledAt: at.toISOString(),
    value: Buffer.from(ContactReceived.encode(contact).finish()),
  };
}

export function spoolEventRecordOf(event: ConversationEvent, at: Date): SpoolRecord {
  return {
    kind: 'event',
    id: event.eventId,
    key: event.conversationId,
    spooledAt: at.toISOString(),
    value: Buffer.from(ConversationEvent.encode(event).finish()),
  };
}

export function contactOf(record: SpoolRecord): ContactReceived {
  return ContactReceived.decode(record.value);
}

/** The record's decoded message; throws if its bytes are not a message of its kind. */
export function messageOf(record: SpoolRecord): SpooledMessage {
  return record.kind === 'event' ? { kind: 'event', value: ConversationEvent.decode(record.value) } : { kind: 'contact', value: contactOf(record) };
}

export function encodeSpoolLine(record: SpoolRecord): Buffer {
  // JSON.stringify escapes newlines, so the line holds none but its last. Version 1 lines (a
  // contact each, without a kind) are still read.
  const json = JSON.stringify({ v: 2, kind: record.kind, id: record.id, key: record.key, at: record.spooledAt, value: record.value.toString('base64') });
  const checksum = crc32(json).toString(16).padStart(8, '0');
  return Buffer.from(`${checksum} ${json}\n`, 'utf8');
}

/** Every record of a segment in file order, and what was skipped and why; never throws on content. */
export function decodeSpoolSegment(bytes: Buffer): { records: DecodedRecord[]; skipped: SkippedLine[] } {
  const records: DecodedRecord[] = [];
  const skipped: SkippedLine[] = [];
  let offset = 0;
  while (offset < bytes.length) {
    const newline = bytes.indexOf(NEWLINE, offset);
    if (newline < 0) {
      // A last line without its newline is a write that did not finish.
      skipped.push({ offset, reason: 'torn', detail: `${bytes.length - offset} bytes without a line end` });
      break;
    }
    const line = bytes.subarray(offset, newline).toString('utf8');
    // A line of spaces is a record an erasure blanked (spool-files.ts): nothing to read, nothing wrong.
    if (/^ +$/.test(line)) {
      offset = newline + 1;
      continue;
    }
    const decoded = decodeLine(line);
    if ('reason' in decoded) skipped.push({ offset, ...decoded });
    else records.push({ record: decoded, end: newline + 1 });
    offset = newline + 1;
  }
  return { records, skipped };
}

type LineProblem = Omit<SkippedLine, 'offset'>;

function decodeLine(line: string): SpoolRecord | LineProblem {
  const match = /^([0-9a-f]{8}) (.*)$/.exec(line);
  if (!match) return { reason: 'malformed', detail: 'no checksum at the start of the line' };
  if (crc32(match[2]!).toString(16).padStart(8, '0') !== match[1]) return { reason: 'checksum', detail: `checksum ${match[1]} does not match the line` };
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(match[2]!) as Record<string, unknown>;
  } catch (err) {
    // Only the error's name: its message would quote the customer's data.
    return { reason: 'malformed', detail: `not JSON (${err instanceof Error ? err.name : 'error'})` };
  }
  const p = parsed;
  const kind = p.v === 1 ? 'contact' : p.kind;
  if (
    (p.v !== 1 && p.v !== 2) ||
    (kind !== 'contact' && kind !== 'event') ||
    typeof p.id !== 'string' ||
    !p.id ||
    typeof p.key !== 'string' ||
    typeof p.at !== 'string' ||
    typeof p.value !== 'string'
  ) {
    return { reason: 'malformed', detail: 'a field is missing or of the wrong type' };
  }
  const record: SpoolRecord = { kind, id: p.id, key: p.key, spooledAt: p.at, value: Buffer.from(p.value, 'base64') };
  try {
    messageOf(record);
  } catch (err) {
    return {
      reason: 'malformed',
      detail: `value is not a ${kind === 'event' ? 'ConversationEvent' : 'ContactReceived'} (${err instanceof Error ? err.name : 'error'})`,
    };
  }
  return record;
}
