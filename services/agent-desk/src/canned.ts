// Canned answers without I/O: which placeholders a template may use, checking a template when it
// is saved, filling it from what the desk knows about a conversation, and who may see or change it.
import { countSegments, type Segments } from '#libs/contact';
import type { Role } from '#libs/auth';

/** Channels an agent writes on. A call is spoken: voice has no reply box, so no templates. */
export const CANNED_CHANNELS = ['email', 'sms', 'chat', 'api', 'whatsapp'] as const;
export type CannedChannel = (typeof CANNED_CHANNELS)[number];

export type CannedScope = 'shared' | 'personal';

/**
 * Every placeholder a template may use, with what it stands for and the length a filled value is
 * assumed to take when an SMS template is measured at save time.
 */
export const PLACEHOLDERS = {
  'customer.name': { means: "the customer's name", allowance: 30 },
  'conversation.reference': { means: 'the reference the customer quotes', allowance: 8 },
  wait: { means: 'the estimated wait, e.g. "about 5 minutes"', allowance: 20 },
  'agent.name': { means: 'your name', allowance: 30 },
} as const;
export type Placeholder = keyof typeof PLACEHOLDERS;

export const CANNED_LIMITS = {
  nameChars: 80,
  textChars: 4000,
  /** Two concatenated segments: 306 GSM-7 characters or 134 UCS-2 code units. */
  smsSegments: 2,
};

/** A template that cannot be saved as written; the message says what to change. */
export class CannedTemplateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CannedTemplateError';
  }
}

const TOKEN = /\{\{\s*([^{}]*?)\s*\}\}/g;

function isPlaceholder(name: string): name is Placeholder {
  return Object.hasOwn(PLACEHOLDERS, name);
}

/** How a placeholder reads in a template and where it is left unfilled. */
function placeholderMark(p: Placeholder): string {
  return `{{${p}}}`;
}

/** The placeholders a text uses, each once; throws CannedTemplateError for an unknown or unclosed one. */
export function placeholdersIn(text: string): Placeholder[] {
  const found = new Set<Placeholder>();
  for (const m of text.matchAll(TOKEN)) {
    const name = m[1]!;
    if (!isPlaceholder(name)) {
      const known = Object.keys(PLACEHOLDERS).map((p) => `{{${p}}}`);
      throw new CannedTemplateError(`unknown placeholder ${m[0].slice(0, 60)}: use ${known.join(', ')}`);
    }
    found.add(name);
  }
  // What is left after the placeholders must not open or close one.
  const rest = text.replace(TOKEN, '');
  if (rest.includes('{{') || rest.includes('}}')) throw new CannedTemplateError('a placeholder is not closed: write it as {{customer.name}}');
  return [...found];
}

/** The text with every placeholder at its assumed longest, for measuring an SMS template before it is used. */
function atAllowance(text: string): string {
  return text.replace(TOKEN, (_m, name: Placeholder) => 'x'.repeat(PLACEHOLDERS[name].allowance));
}

/** Checks a template's text for its channels; returns the placeholders it uses. */
export function checkTemplate(text: string, channels: readonly CannedChannel[]): Placeholder[] {
  const used = placeholdersIn(text);
  if (channels.includes('sms')) {
    const fit = countSegments(atAllowance(text));
    if (fit.segments > CANNED_LIMITS.smsSegments) {
      const max = fit.encoding === 'GSM-7' ? 306 : 134;
      throw new CannedTemplateError(
        `too long for SMS: ${fit.segments} segments (${fit.encoding}) with placeholders filled; at most ${CANNED_LIMITS.smsSegments} segments, about ${max} characters in ${fit.encoding}`,
      );
    }
  }
  return used;
}

/** What the desk knows about a conversation; a value left out or empty is left for the agent to fill. */
export type FillValues = Partial<Record<Placeholder, string>>;

export interface Filled {
  text: string;
  /** Placeholders left in the text as written, for the agent to fill by hand. */
  missing: Placeholder[];
}

/**
 * Fills a template in one pass: a value is never read as a template itself, so a customer named
 * "{{agent.name}}" stays that name. Control characters in values are dropped; a placeholder
 * without a value stays visibly in place, never an empty gap.
 */
export function fillTemplate(text: string, values: FillValues): Filled {
  const missing = new Set<Placeholder>();
  const filled = text.replace(TOKEN, (whole, name: string) => {
    if (!isPlaceholder(name)) return whole;
    const value = (values[name] ?? '').replace(/[\u0000-\u001f\u007f]/g, ' ').trim();
    if (value) return value;
    missing.add(name);
    return placeholderMark(name);
  });
  return { text: filled, missing: [...missing] };
}

/** How a filled SMS counts, with a warning past the limit; null for other channels. */
export function smsCount(text: string, channel: CannedChannel): (Segments & { tooLong: boolean }) | null {
  if (channel !== 'sms') return null;
  const fit = countSegments(text);
  return { ...fit, tooLong: fit.segments > CANNED_LIMITS.smsSegments };
}

/** A customer name worth saying: the desk's stand-in for a missing one is not. */
export function customerNameValue(name: string): string {
  return name.trim() === 'Unknown customer' ? '' : name;
}

export interface CannedOwner {
  scope: CannedScope;
  /** The staff id of a personal template's owner; empty for shared ones. */
  owner: string;
}

interface Actor {
  id: string;
  role: Role;
}

/** Shared templates are everyone's to use; a personal one only its owner's, and nobody else learns it exists. */
export function maySee(actor: Actor, t: CannedOwner): boolean {
  return t.scope === 'shared' || t.owner === actor.id;
}

/** Why `actor` may not create, change or delete a template like `t`; empty when they may. */
export function changeRefusal(actor: Actor, t: CannedOwner): string {
  if (t.scope === 'shared') return actor.role === 'supervisor' ? '' : 'only supervisors manage shared canned answers';
  return t.owner === actor.id ? '' : 'a personal canned answer is changed only by its owner';
}
