// The spool's file format, with no I/O: one contact a line, `<crc32 hex> <json>\n`. The checksum
// covers the JSON, so a line torn by a crash mid-write (or damaged on disk) is recognised and
// skipped, and a good line is never read as part of a bad one.
import { crc32 } from 'node:zlib';
import { ContactReceived } from '../../../libs/proto';

/** One spooled contact, as written: its ce_id, its Kafka key and its protobuf bytes. */
export interface SpoolRecord {
  id: string;
  key: string;
  spooledAt: string;
  value: Buffer;
}

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
  return { id: contact.contactId, key: contact.conversationId, spooledAt: at.toISOString(), value: Buffer.from(ContactReceived.encode(contact).finish()) };
}

export function contactOf(record: SpoolRecord): ContactReceived {
  return ContactReceived.decode(record.value);
}

export function encodeSpoolLine(record: SpoolRecord): Buffer {
  // JSON.stringify escapes newlines, so the line holds none but its last.
  const json = JSON.stringify({ v: 1, id: record.id, key: record.key, at: record.spooledAt, value: record.value.toString('base64') });
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
    const decoded = decodeLine(bytes.subarray(offset, newline).toString('utf8'));
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
  if (p.v !== 1 || typeof p.id !== 'string' || !p.id || typeof p.key !== 'string' || typeof p.at !== 'string' || typeof p.value !== 'string') {
    return { reason: 'malformed', detail: 'a field is missing or of the wrong type' };
  }
  const record: SpoolRecord = { id: p.id, key: p.key, spooledAt: p.at, value: Buffer.from(p.value, 'base64') };
  try {
    contactOf(record);
  } catch (err) {
    return { reason: 'malformed', detail: `value is not a ContactReceived (${err instanceof Error ? err.name : 'error'})` };
  }
  return record;
}
