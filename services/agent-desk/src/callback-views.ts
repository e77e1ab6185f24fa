// The callback line of an offer and of the conversation view: the agent knows they will dial
// out, to whom (masked) and what the caller was promised. No I/O.
import { clockAt } from '#libs/calendars';
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

/** In the queue's zone, named ("10:00 Europe/Paris"); UTC when the queue has no calendar. */
function clock(d: Date | undefined, zone: string): string {
  return d ? clockAt(d.getTime(), zone) : 'an unknown time';
}

/** "Callback to +44…123 — requested at 10:00 Europe/Paris, promised by 10:06 Europe/Paris"; empty when the offer is not a callback. */
export function callbackLine(callback: CallbackOffer | undefined): string {
  if (!callback?.number) return '';
  const retry = callback.attempt > 1 ? ` (attempt ${callback.attempt})` : '';
  return `Callback to ${maskNumber(callback.number)} — requested at ${clock(callback.requestedAt, callback.zone)}, promised by ${clock(callback.promisedBy, callback.zone)}${retry}`;
}
