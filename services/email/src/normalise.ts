// From a parsed mail to the facts the contact centre needs: who wrote, what is new in it, what
// was quoted, what it threads onto, and whether a machine sent it. No I/O here.
import { createHash } from 'node:crypto';
import { eventId, idDigest } from '#libs/contact';
import { checkThreadIds } from './mail-limits';
import { onBehalfAddress } from './on-behalf';
import { MailRefusal } from './refusals';

/** The parts of mailparser's ParsedMail this module reads. */
export interface ParsedMailLike {
  from?: { value: { address?: string; name?: string }[] };
  subject?: string;
  text?: string;
  html?: string | false;
  messageId?: string;
  inReplyTo?: string;
  references?: string | string[];
  headers: Map<string, unknown>;
  attachments: { filename?: string; contentType: string; size: number; content: Buffer }[];
}

export interface NormalisedAttachment {
  name: string;
  contentType: string;
  sizeBytes: number;
  sha256: string;
}

export interface NormalisedMail {
  senderAddress: string;
  senderName: string;
  subject: string;
  /** The new text, plain. */
  text: string;
  /** The earlier thread quoted under it. */
  quotedText: string;
  messageId: string;
  /** Message-IDs this mail answers, nearest first. */
  threadIds: string[];
  /** `AB12CD` from a `[#AB12CD]` in the subject. */
  reference?: string;
  attachments: NormalisedAttachment[];
  /** Why this is an auto-reply, bounce or list mail; undefined for a person's mail. */
  automatedReason?: string;
  /** The address of the customer the mail says it is written for (on-behalf.ts). */
  onBehalfOf?: string;
}

/** A mail with nothing the contact centre can use (no sender address). */
export class UnusableMailError extends MailRefusal {}

const MAX_SUBJECT = 998;
const MAX_TEXT = 100_000;
const REFERENCE_PATTERN = /\[#([A-Z0-9]{6})\]/;

/** Message ids a mail's In-Reply-To and References may name, unless the caller says otherwise. */
const DEFAULT_MAX_REFERENCES = 100;

export function normaliseMail(mail: ParsedMailLike, envelopeSender: string | false, limits = { maxReferences: DEFAULT_MAX_REFERENCES }): NormalisedMail {
  const from = mail.from?.value.find((a) => a.address);
  const senderAddress = cleanAddress(from?.address ?? (envelopeSender || ''));
  if (!senderAddress) throw new UnusableMailError('the message has no usable From address');
  const subject = cleanLine(mail.subject ?? '').slice(0, MAX_SUBJECT);
  const body = mail.text && mail.text.trim() ? mail.text : mail.html ? htmlToText(mail.html) : '';
  const { text, quoted } = splitQuoted(stripControl(body).slice(0, MAX_TEXT));
  const messageId = mail.messageId ? cleanLine(mail.messageId) : '';
  const references = Array.isArray(mail.references) ? mail.references : mail.references ? mail.references.split(/\s+/) : [];
  const threadIds = unique(
    [mail.inReplyTo, ...references.slice().reverse()]
      .filter((x): x is string => !!x)
      .map(cleanLine)
      .filter(Boolean),
  );
  // Each id is a look-up in the thread index: a mail naming thousands must not cost thousands.
  checkThreadIds(threadIds, limits.maxReferences);
  return {
    senderAddress,
    senderName: cleanLine(from?.name ?? '').slice(0, 200),
    subject,
    text,
    quotedText: quoted,
    messageId,
    threadIds,
    reference: REFERENCE_PATTERN.exec(subject)?.[1],
    attachments: mail.attachments.map((a) => ({
      name: cleanLine(a.filename ?? 'attachment').slice(0, 255) || 'attachment',
      contentType: cleanLine(a.contentType).slice(0, 255),
      sizeBytes: a.size,
      sha256: createHash('sha256').update(a.content).digest('hex'),
    })),
    automatedReason: automatedReason(mail, senderAddress, envelopeSender),
    onBehalfOf: onBehalfAddress(headerText(mail.headers.get('on-behalf-of')), subject, text),
  };
}

/** Auto-replies, bounces and list mail: recorded, never answered (RFC 3834, RFC 3464, RFC 2369). */
function automatedReason(mail: ParsedMailLike, senderAddress: string, envelopeSender: string | false): string | undefined {
  const header = (name: string) => headerText(mail.headers.get(name)).toLowerCase();
  const autoSubmitted = header('auto-submitted');
  if (autoSubmitted && autoSubmitted !== 'no') return `Auto-Submitted: ${autoSubmitted}`;
  const precedence = header('precedence');
  if (['bulk', 'junk', 'list', 'auto_reply'].includes(precedence)) return `Precedence: ${precedence}`;
  if (mail.headers.has('list-id') || mail.headers.has('list-unsubscribe')) return 'mailing-list headers';
  if (mail.headers.has('x-autoreply') || mail.headers.has('x-autorespond')) return 'auto-reply header';
  const local = senderAddress.split('@')[0] ?? '';
  if (/^(mailer-daemon|postmaster)$/.test(local)) return `sender ${local}`;
  if (envelopeSender === false || envelopeSender === '') return 'empty envelope sender (bounce)';
  const contentType = header('content-type');
  if (contentType.includes('multipart/report')) return 'delivery status notification';
  return undefined;
}

function headerText(value: unknown): string {
  if (typeof value === 'string') return value.trim();
  if (value && typeof value === 'object' && 'value' in value) return String((value as { value: unknown }).value).trim();
  return '';
}

/** Splits off the quoted earlier thread: "On … wrote:" and what follows, or a trailing block of "> " lines. */
export function splitQuoted(body: string): { text: string; quoted: string } {
  const lines = body.replace(/\r\n?/g, '\n').split('\n');
  const marker = lines.findIndex(
    (line, i) =>
      /^On .+wrote:\s*$/.test(line.trim()) ||
      /^-{2,}\s*Original Message\s*-{2,}$/i.test(line.trim()) ||
      (/^>/.test(line) && lines.slice(i).every((l) => /^>/.test(l) || l.trim() === '')),
  );
  if (marker < 0) return { text: body.trim(), quoted: '' };
  return { text: lines.slice(0, marker).join('\n').trim(), quoted: lines.slice(marker).join('\n').trim() };
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ' };

/**
 * HTML to plain text for mail that has no text part: scripts and styles dropped, tags removed,
 * entities decoded once. The result is text and is escaped wherever it is shown.
 */
export function htmlToText(html: string): string {
  const withoutTags = html
    .replace(/<(script|style|head)[\s\S]*?<\/\1\s*>/gi, ' ')
    .replace(/<!--[\s\S]*?-->/g, ' ')
    .replace(/<(br|\/p|\/div|\/li|\/tr|\/h[1-6])\b[^>]*>/gi, '\n')
    .replace(/<[^>]*>?/g, ' ');
  // Decode after the tags are gone, and drop anything that would still read as markup.
  const decoded = withoutTags.replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z]+);/gi, (whole, code: string) => {
    if (code[0] === '#') {
      const n = code[1] === 'x' || code[1] === 'X' ? parseInt(code.slice(2), 16) : parseInt(code.slice(1), 10);
      return Number.isFinite(n) && n > 0 && n < 0x110000 ? String.fromCodePoint(n) : ' ';
    }
    return ENTITIES[code.toLowerCase()] ?? whole;
  });
  return decoded
    .replace(/<(?=[a-z/!?])/gi, '‹')
    .replace(/[ \t]+/g, ' ')
    .replace(/\n\s*\n\s*\n+/g, '\n\n')
    .trim();
}

function cleanAddress(address: string): string {
  const a = address.trim().toLowerCase();
  return /^[^\s@<>()",;:]+@[^\s@<>()",;:]+$/.test(a) ? a : '';
}

function cleanLine(s: string): string {
  return stripControl(s)
    .replace(/[\r\n\t]+/g, ' ')
    .trim();
}

function stripControl(s: string): string {
  return s.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g, '');
}

function unique<T>(items: T[]): T[] {
  return [...new Set(items)];
}

/** A stable id for a mail, so the same mail delivered twice (SMTP retries) is one contact. */
export function contactIdFor(mail: NormalisedMail, raw: Buffer): string {
  const basis = mail.messageId ? `message-id:${mail.messageId}` : `raw:${createHash('sha256').update(raw).digest('hex')}`;
  return eventId('email', 'email', idDigest(basis));
}
