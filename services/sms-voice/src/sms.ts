// SMS rules with no I/O: numbers to E.164, carrier keywords, length.
import { parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js';
import { waitInWords as inWords } from '#libs/contact';

export class InvalidNumberError extends Error {
  constructor(
    readonly field: string,
    value: string,
  ) {
    super(`${field} "${value.slice(0, 40)}" is not a valid phone number`);
    this.name = 'InvalidNumberError';
  }
}

export function toE164(value: string, field: string, defaultCountry: string): string {
  const parsed = parsePhoneNumberFromString(value.trim(), defaultCountry as CountryCode);
  if (!parsed || !parsed.isValid()) throw new InvalidNumberError(field, value);
  return parsed.number;
}

export type Keyword = 'stop' | 'start' | 'help';

/** The opt-out keywords carriers require honouring (CTIA; Twilio's defaults). */
export function keywordOf(body: string): Keyword | undefined {
  const word = body
    .trim()
    .toUpperCase()
    .replace(/[.!]+$/, '');
  if (['STOP', 'STOPALL', 'UNSUBSCRIBE', 'CANCEL', 'END', 'QUIT', 'OPTOUT', 'REVOKE'].includes(word)) return 'stop';
  if (['START', 'YES', 'UNSTOP', 'OPTIN'].includes(word)) return 'start';
  if (['HELP', 'INFO'].includes(word)) return 'help';
  return undefined;
}

/** Twilio refuses bodies over 1,600 characters: longer texts go as several messages, split between words. */
const TWILIO_MAX_BODY = 1600;

export function splitBody(body: string, max = TWILIO_MAX_BODY): string[] {
  const parts: string[] = [];
  let rest = body.trim();
  while (rest.length > max) {
    let cut = rest.lastIndexOf(' ', max);
    if (cut < max / 2) cut = max;
    // Never cut a surrogate pair in two.
    if (/[\uD800-\uDBFF]/.test(rest[cut - 1] ?? '')) cut--;
    parts.push(rest.slice(0, cut).trim());
    rest = rest.slice(cut).trim();
  }
  if (rest) parts.push(rest);
  return parts;
}

/** A wait in words a caller understands: "less than a minute", "about 3 minutes". */
export function waitInWords(ms: number): string {
  return inWords(ms, { approximate: true });
}

export function positionInWords(position: number): string {
  if (position <= 1) return 'You are next in line.';
  return `There ${position - 1 === 1 ? 'is 1 caller' : `are ${position - 1} callers`} ahead of you.`;
}
