// Contacts made on a customer's behalf, in words for the desk: who acted, with what authority, or
// that someone only said they act for the customer. The page sets these as text, so a name with
// markup in it stays text. No I/O.
import { IntermediaryKind, MandateAuthority, type OnBehalf, type Representative } from '#libs/proto';

const KIND_WORDS: Partial<Record<IntermediaryKind, string>> = {
  [IntermediaryKind.INTERMEDIARY_KIND_AGENCY]: 'agency',
  [IntermediaryKind.INTERMEDIARY_KIND_RESERVATION_LINE]: 'reservation line',
  [IntermediaryKind.INTERMEDIARY_KIND_ASSISTANT]: 'assistant',
};

const AUTHORITY_WORDS: Partial<Record<MandateAuthority, string>> = {
  [MandateAuthority.MANDATE_AUTHORITY_INFORM]: 'may give and get information',
  [MandateAuthority.MANDATE_AUTHORITY_ACT]: 'may change bookings',
};

const clean = (s: string, max: number) => s.replace(/[\u0000-\u001F\u007F]/g, '').slice(0, max);
const who = (name: string, kind: IntermediaryKind) => `${clean(name, 200) || 'an intermediary'}${KIND_WORDS[kind] ? ` (${KIND_WORDS[kind]})` : ''}`;

/** The history's line for a contact made for the customer, or only claimed to be; empty for the customer's own. */
export function onBehalfLine(o: OnBehalf | undefined): string {
  if (!o) return '';
  if (o.verified) return `Made by ${who(o.intermediaryName, o.kind)} for the customer · authority: ${AUTHORITY_WORDS[o.authority] ?? 'unknown'}`;
  const named = o.claimedFor ? clean(o.claimedFor.value, 254) : 'someone';
  const sender = o.intermediaryId ? who(o.intermediaryName, o.kind) : 'The sender';
  return `${sender} says they act for ${named} (not verified: ${clean(o.problem, 200) || 'no mandate'})`;
}

/** The card's lines for the intermediaries that may speak for the customer. */
export function representativeLines(reps: readonly Representative[]): { intermediaryId: string; label: string }[] {
  return reps.map((r) => ({
    intermediaryId: r.intermediaryId,
    label: `${who(r.name, r.kind)} · ${AUTHORITY_WORDS[r.authority] ?? 'unknown authority'}${r.expiresAt ? ` · until ${r.expiresAt.toISOString().slice(0, 10)}` : ''}`,
  }));
}
