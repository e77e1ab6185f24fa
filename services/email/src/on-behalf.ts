// Whom a mail says it is written for: an On-Behalf-Of header, or "on behalf of <address>" in the
// subject or the new text (agencies and assistants write it either way). Only an address is
// taken; customer-record decides whether the sender may speak for that customer. No I/O.

const HEADER_ADDRESS = /^\s*(?:[^<]*<)?\s*([^\s<>@]{1,64}@[A-Za-z0-9.-]{1,253})\s*>?\s*$/;
const PHRASE = /\bon\s+behalf\s+of\b[^<@\n]{0,60}?<?([A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)>?/i;

export function onBehalfAddress(header: string, subject: string, text: string): string | undefined {
  const fromHeader = header ? HEADER_ADDRESS.exec(header)?.[1] : undefined;
  if (fromHeader) return fromHeader.toLowerCase();
  // Only the first lines of the new text: a quoted signature further down is not a request.
  const found = PHRASE.exec(subject) ?? PHRASE.exec(text.slice(0, 2000));
  return found?.[1]?.toLowerCase();
}
