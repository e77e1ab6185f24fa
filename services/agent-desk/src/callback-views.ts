// The callback line of an offer and of the conversation view: the agent knows they will dial
// out, to whom (masked) and what the caller was promised. No I/O.
import type { CallbackOffer } from '#libs/proto';

/**
 * A phone number as the desk shows it: the first three characters (the `+` and the start of
 * the country code) and the last three digits, so agents can tell numbers apart without the
 * whole number on the screen: `+447700900123` → `+44…123`.
 */
export function maskNumber(number: string): string {
  if (number.length <= 6) return '…';
  return `${number.slice(0, 3)}…${number.slice(-3)}`;
}

function clock(d: Date | undefined): string {
  return d ? `${d.toISOString().slice(11, 16)} UTC` : 'an unknown time';
}

/** "Callback to +44…123 — requested at 09:00 UTC, promised by 09:06 UTC"; empty when the offer is not a callback. */
export function callbackLine(callback: CallbackOffer | undefined): string {
  if (!callback?.number) return '';
  const retry = callback.attempt > 1 ? ` (attempt ${callback.attempt})` : '';
  return `Callback to ${maskNumber(callback.number)} — requested at ${clock(callback.requestedAt)}, promised by ${clock(callback.promisedBy)}${retry}`;
}
