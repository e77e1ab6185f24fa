// Bounds on what one received mail may make the service do: how big its header section is, and
// how many conversations' Message-IDs it may ask the thread index about. No I/O.
import { MailRefusal } from './refusals';

/** A mail over one of the bounds (its size, header, attachments, thread ids). */
export class MailLimitError extends MailRefusal {}

/** Longer than any Message-ID a mail system makes (ours are under 100 characters). */
const MAX_MESSAGE_ID_LENGTH = 250;

/** Bytes before the blank line that ends the header section (the whole mail when there is none). */
function headerSectionBytes(raw: Buffer): number {
  const crlf = raw.indexOf('\r\n\r\n');
  const lf = raw.indexOf('\n\n');
  const ends = [crlf, lf].filter((i) => i >= 0);
  return ends.length ? Math.min(...ends) : raw.length;
}

export function checkHeaderSection(raw: Buffer, maxBytes: number): void {
  const bytes = headerSectionBytes(raw);
  if (bytes > maxBytes) throw new MailLimitError(`The message header is ${bytes} bytes; the limit is ${maxBytes}`);
}

/** In-Reply-To and References: each id one the index can hold, and not more of them than `max`. */
export function checkThreadIds(ids: readonly string[], max: number): void {
  if (ids.length > max) throw new MailLimitError(`References and In-Reply-To name ${ids.length} messages; the limit is ${max}`);
  const long = ids.find((id) => id.length > MAX_MESSAGE_ID_LENGTH);
  if (long) throw new MailLimitError(`A message id in References or In-Reply-To is ${long.length} characters long; the limit is ${MAX_MESSAGE_ID_LENGTH}`);
}
