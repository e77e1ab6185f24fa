// Callbacks that call back: the caller who asks leaves the call and keeps their place in the
// queue; when an agent accepts, the voice channel dials them (callback-rules.ts); an attempt
// not answered puts the callback back at its place until the retry interval has passed, and
// after the last one the customer is told by SMS and the callback is given up.
import { CallbackOutcome, Channel, IdentityKind, OutboundKind } from '#libs/proto';
import { afterAttempt, bookedText, gaveUpText, isAttemptOutcome, newCallback, progress, requestedInWords } from './callback-rules';
import type { Core } from './context';
import { pullFor, tryAssign } from './dispatch';
import { withHours } from './hours';
import { release } from './offers';
import type { CallbackRecord, ConversationRecord } from './records';
import { reason } from './reasons';
import { currentStep, isWholeTier, rescheduleStep } from './targets';

/** The caller asked to be called back at `number` (checked E.164 by contact-check). */
export function callbackRequested(core: Core, conv: ConversationRecord, number: string): void {
  if (conv.channel !== 'voice' || conv.callback || !['queued', 'offered', 'new'].includes(conv.state)) return;
  const now = core.clock.now();
  const position = Math.max(1, core.waiting.position(conv));
  const promised = withHours(core, conv.queue, now, core.stats.estimate(conv.queue, conv.channel, position).estimatedWaitMs).estimatedWaitMs;
  // Said in the queue's own zone, as the hours are; UTC for a queue without a calendar.
  const callback = (conv.callback = newCallback(number, now, promised, core.calendars.of(conv.queue)?.zone));
  core.out.event(conv, reason('callback.requested', `callback ${requestedInWords(callback)}; it keeps place ${position} in ${conv.queue}`), {
    $case: 'callbackProgress',
    callbackProgress: progress(CallbackOutcome.CALLBACK_OUTCOME_REQUESTED, 0, { promisedWaitMs: promised }),
  });
  // Said on the call too, but a text stays: by SMS to the callback number (sms-voice keeps opt-outs).
  textTo(core, conv, number, bookedText(callback));
}

/** A status text about the callback, by SMS to its number, from the number the customer called. */
function textTo(core: Core, conv: ConversationRecord, number: string, text: string): void {
  const sms = core.out.outbound(conv, OutboundKind.OUTBOUND_KIND_STATUS_UPDATE, text, '');
  sms.channel = Channel.CHANNEL_SMS;
  sms.recipient = { kind: IdentityKind.IDENTITY_KIND_PHONE, value: number, namespace: '' };
}

/** The voice channel's report of an attempt; a repeat, or one about an earlier attempt, changes nothing. */
export function callbackAttempted(core: Core, conversationId: string, outcome: CallbackOutcome, attempt: number): void {
  const conv = core.conversations.get(conversationId);
  const cb = conv?.callback;
  if (!conv || !cb || cb.state !== 'dialling' || cb.attempts !== attempt || !isAttemptOutcome(outcome)) return;
  const now = core.clock.now();
  const after = afterAttempt(cb, outcome, core.policy, now);
  if (after.next === 'connected') return connected(core, conv, cb, now);
  const agent = core.agents.records.get(conv.agentId);
  if (agent) {
    release(core, conv, agent);
    core.out.revoked(agent.id, conv.id, reason('callback.not_answered', 'the customer did not answer the callback'));
  }
  if (after.next === 'retry') backInQueue(core, conv, cb, after.at);
  else gaveUp(core, conv, cb, now);
  if (agent) pullFor(core, agent);
}

/** The customer answered: the promise is measured against the real wait, as an EWT is. */
function connected(core: Core, conv: ConversationRecord, cb: CallbackRecord, now: number): void {
  cb.state = 'connected';
  const waited = now - cb.requestedAt;
  core.stats.answered(conv.queue, cb.promisedWaitMs, waited);
  core.out.event(conv, reason('callback.answered', `the customer answered callback attempt ${cb.attempts}`), {
    $case: 'callbackProgress',
    callbackProgress: progress(CallbackOutcome.CALLBACK_OUTCOME_ANSWERED, cb.attempts, { promisedWaitMs: cb.promisedWaitMs, waitedMs: waited }),
  });
}

/** Back at its old place in the queue (its key is kept), not offered before `at`. */
function backInQueue(core: Core, conv: ConversationRecord, cb: CallbackRecord, at: number): void {
  cb.state = 'retry-wait';
  cb.notBefore = at;
  conv.state = 'queued';
  conv.agentId = '';
  conv.declinedBy = [];
  core.waiting.insert(conv);
  if (isWholeTier(currentStep(conv))) core.waiting.widen(conv);
  rescheduleStep(core, conv);
  scheduleRetry(core, conv, cb);
  core.out.event(conv, reason('callback.retry_scheduled', `attempt ${cb.attempts} not answered; next attempt at ${new Date(at).toISOString()}`), {
    $case: 'callbackProgress',
    callbackProgress: progress(CallbackOutcome.CALLBACK_OUTCOME_RETRY_SCHEDULED, cb.attempts, { nextAttemptAt: at }),
  });
}

export function scheduleRetry(core: Core, conv: ConversationRecord, cb: CallbackRecord): void {
  core.timers.push(cb.notBefore, 'callback_retry', conv.id, cb.attempts);
}

/** The retry interval passed: the callback may be offered again (opening hours permitting). */
export function retryDue(core: Core, conv: ConversationRecord, version: number, now: number): void {
  if (conv.state !== 'queued' || conv.callback?.state !== 'retry-wait' || conv.callback.attempts !== version) return;
  tryAssign(core, conv, now);
}

/** The last attempt was not answered either: an SMS to the customer, a record on the conversation, and it ends. */
function gaveUp(core: Core, conv: ConversationRecord, cb: CallbackRecord, now: number): void {
  cb.state = 'gave-up';
  conv.state = 'abandoned';
  conv.agentId = '';
  conv.slaState = 'stopped';
  const text = gaveUpText(cb.attempts);
  core.out.event(conv, reason('callback.gave_up', `${cb.attempts} callback attempts not answered; the customer is told by SMS`), {
    $case: 'callbackProgress',
    callbackProgress: progress(CallbackOutcome.CALLBACK_OUTCOME_GAVE_UP, cb.attempts),
  });
  textTo(core, conv, cb.number, text);
  core.out.event(conv, reason('callback.gave_up', 'the customer could not be reached by callback'), {
    $case: 'abandoned',
    abandoned: { waitedMs: now - conv.createdAt },
  });
}
