// A callback's rules: what an attempt's outcome leads to, and the attempt itself (the customer
// dialled, the agent bridged by the voice channel). No I/O.
import { CallbackOutcome, Channel, IdentityKind, OutboundKind } from '#libs/proto';
import type { Core } from './context';
import type { RoutingPolicy } from './policy';
import { clockAt, dateTimeAt } from '#libs/calendars';
import type { CallbackRecord, ConversationRecord } from './records';

type RetryPolicy = Pick<RoutingPolicy, 'callbackRetryIntervalMs' | 'callbackMaxAttempts'>;

/** What the voice channel reports of an attempt: the customer answered, or not. */
export type AttemptOutcome = CallbackOutcome.CALLBACK_OUTCOME_ANSWERED | Unanswered;
type Unanswered = CallbackOutcome.CALLBACK_OUTCOME_NO_ANSWER | CallbackOutcome.CALLBACK_OUTCOME_BUSY | CallbackOutcome.CALLBACK_OUTCOME_FAILED;

const UNANSWERED = new Set<CallbackOutcome>([
  CallbackOutcome.CALLBACK_OUTCOME_NO_ANSWER,
  CallbackOutcome.CALLBACK_OUTCOME_BUSY,
  CallbackOutcome.CALLBACK_OUTCOME_FAILED,
]);

export function isAttemptOutcome(outcome: CallbackOutcome): outcome is AttemptOutcome {
  return outcome === CallbackOutcome.CALLBACK_OUTCOME_ANSWERED || UNANSWERED.has(outcome);
}

/** After an attempt: connected, another attempt after the interval, or given up after the last one. */
export type AfterAttempt = { next: 'connected' } | { next: 'retry'; at: number } | { next: 'give-up' };

export function afterAttempt(cb: CallbackRecord, outcome: AttemptOutcome, policy: RetryPolicy, now: number): AfterAttempt {
  if (outcome === CallbackOutcome.CALLBACK_OUTCOME_ANSWERED) return { next: 'connected' };
  if (cb.attempts >= policy.callbackMaxAttempts) return { next: 'give-up' };
  return { next: 'retry', at: now + policy.callbackRetryIntervalMs };
}

/** When each attempt may be made at the earliest, counted from the first one, if none is answered. */
export function retrySchedule(policy: RetryPolicy, firstAttemptAt: number): number[] {
  return Array.from({ length: policy.callbackMaxAttempts }, (_, i) => firstAttemptAt + i * policy.callbackRetryIntervalMs);
}

export function newCallback(number: string, requestedAt: number, promisedWaitMs: number, zone?: string): CallbackRecord {
  return { state: 'waiting', number, attempts: 0, requestedAt, promisedWaitMs, notBefore: 0, ...(zone ? { zone } : {}) };
}

/** True while a callback waits out its retry interval: it is not offered before. */
export function retryPending(conv: ConversationRecord, now: number): boolean {
  return conv.callback?.state === 'retry-wait' && conv.callback.notBefore > now;
}

/** What the SMS says when the last attempt was not answered either. */
export function gaveUpText(attempts: number): string {
  return `We tried to call you back ${attempts === 1 ? 'once' : `${attempts} times`} but could not reach you. Please call us again, or reply to this message, and we will help you.`;
}

/** The SMS sent when the callback is booked: when to expect the call, in the queue's zone (UTC without a calendar). */
export function bookedText(cb: CallbackRecord): string {
  return `Thank you for your call. We will call you back by ${dateTimeAt(cb.requestedAt + cb.promisedWaitMs, cb.zone)}, keeping your place in the queue. Reply STOP to opt out of texts.`;
}

/** "requested at 10:00 Europe/Paris, promised by 10:06 Europe/Paris": what the history says of the request. */
export function requestedInWords(cb: CallbackRecord): string {
  return `requested at ${clockAt(cb.requestedAt, cb.zone)}, promised by ${clockAt(cb.requestedAt + cb.promisedWaitMs, cb.zone)}`;
}

/** The callback line of an offer: only while the conversation is still a callback to dial (not one already connected). */
export function callbackOffer(cb: CallbackRecord | undefined, dates: { dateAt(ms: number): Date }) {
  if (!cb || cb.state === 'gave-up') return undefined;
  return {
    number: cb.number,
    requestedAt: dates.dateAt(cb.requestedAt),
    promisedBy: dates.dateAt(cb.requestedAt + cb.promisedWaitMs),
    attempt: cb.state === 'waiting' || cb.state === 'retry-wait' ? cb.attempts + 1 : cb.attempts,
    zone: cb.zone ?? '',
  };
}

/** The agent accepted the callback: the voice channel dials the customer and bridges the agent. */
export function dialCallback(core: Core, conv: ConversationRecord, cb: CallbackRecord, agentId: string): void {
  cb.state = 'dialling';
  cb.attempts++;
  cb.notBefore = 0;
  const message = core.out.outbound(conv, OutboundKind.OUTBOUND_KIND_CALLBACK, '', agentId);
  message.recipient = { kind: IdentityKind.IDENTITY_KIND_PHONE, value: cb.number, namespace: '' };
  message.channel = Channel.CHANNEL_VOICE;
  message.channelMetadata['callback-attempt'] = String(cb.attempts);
}

/** A CallbackProgress step with every field set. */
export function progress(outcome: CallbackOutcome, attempt: number, more: { nextAttemptAt?: number; promisedWaitMs?: number; waitedMs?: number } = {}) {
  return {
    outcome,
    attempt,
    callSid: '',
    nextAttemptAt: more.nextAttemptAt ? new Date(more.nextAttemptAt) : undefined,
    promisedWaitMs: more.promisedWaitMs ?? 0,
    waitedMs: more.waitedMs ?? 0,
  };
}
