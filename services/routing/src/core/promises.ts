// Promises on long cases: the owner of a conversation (or a supervisor) sets the next milestone,
// when it is expected and maybe a cost; the customer gets each update on their channel and can
// ask "status". Before the deadline the owner and the supervisors are warned; when it passes
// the customer is told the case is late and that the owner will give a new date (routing does
// not invent one). Marking it done, or resolving the conversation, in time keeps it.
import { CHANNEL_ENUM } from '#libs/contact';
import { Channel, OutboundKind, PromiseProgress, type PromiseStep } from '#libs/proto';
import type { Core } from './context';
import { conversationOf } from './context';
import { asksStatus, checkPromise, currentStatusText, ownerSlippedText, type PromiseInput, slippedText, statusText, warningText } from './promise-rules';
import { type ConversationRecord, type PromiseRecord, RoutingError } from './records';
import { reason } from './reasons';

export interface PromiseCaller {
  id: string;
  supervisor: boolean;
}

/** Sets or updates the promise; returns it and the status text the customer was sent. */
export function setPromise(core: Core, caller: PromiseCaller, conversationId: string, input: PromiseInput): { promise: PromiseRecord; text: string } {
  const conv = mayChange(core, caller, conversationId);
  const now = core.clock.now();
  const checked = checkPromise(input, now);
  const before = conv.promise;
  const updated = Boolean(before);
  const promise: PromiseRecord = {
    state: 'open',
    ...checked,
    ownerId: conv.agentId || before?.ownerId || caller.id,
    setBy: caller.id,
    setAt: now,
    version: (before?.version ?? 0) + 1,
  };
  conv.promise = promise;
  const progress = updated ? PromiseProgress.PROMISE_PROGRESS_UPDATED : PromiseProgress.PROMISE_PROGRESS_SET;
  const code = updated ? 'promise.updated' : 'promise.set';
  step(core, conv, progress, reason(code, `${caller.id} promised "${promise.milestone}" by ${new Date(promise.dueAt).toISOString()}`));
  const text = statusText(promise, conv.subject, updated);
  tellCustomer(core, conv, text, caller.supervisor ? '' : caller.id);
  schedulePromise(core, conv, promise);
  return { promise, text };
}

/** The milestone is done: the promise counts as kept when it is done by its date. */
export function markKept(core: Core, caller: PromiseCaller, conversationId: string): PromiseRecord {
  const conv = mayChange(core, caller, conversationId);
  const promise = conv.promise;
  if (!promise || promise.state === 'kept') throw new RoutingError('FAILED_PRECONDITION', `conversation ${conversationId} has no open promise`);
  kept(core, conv, promise, `${caller.id} marked "${promise.milestone}" done`);
  return promise;
}

/** The conversation is resolved: an open promise on it is kept. */
export function keptOnResolve(core: Core, conv: ConversationRecord): void {
  const promise = conv.promise;
  if (promise && promise.state !== 'kept') kept(core, conv, promise, 'the conversation was resolved');
}

function kept(core: Core, conv: ConversationRecord, promise: PromiseRecord, why: string): void {
  const late = promise.state === 'slipped';
  promise.state = 'kept';
  step(core, conv, PromiseProgress.PROMISE_PROGRESS_KEPT, reason('promise.kept', late ? `${why}, after its date` : why));
}

/** A customer's message on an open conversation: "status" is answered with the current promise. */
export function statusAsked(core: Core, conv: ConversationRecord, text: string): void {
  const promise = conv.promise;
  if (!promise || !asksStatus(text)) return;
  step(core, conv, PromiseProgress.PROMISE_PROGRESS_ASKED, reason('promise.asked', 'the customer asked for the status'));
  tellCustomer(core, conv, currentStatusText(promise, conv.subject, core.clock.now()), '');
}

/** The warning before the deadline, and the deadline itself; a later version makes both stale. */
export function schedulePromise(core: Core, conv: ConversationRecord, promise: PromiseRecord): void {
  if (promise.state === 'open')
    core.timers.push(Math.max(promise.setAt, promise.dueAt - core.policy.promiseWarningLeadMs), 'promise_warning', conv.id, promise.version);
  if (promise.state === 'open' || promise.state === 'warned') core.timers.push(promise.dueAt, 'promise_due', conv.id, promise.version);
}

export function promiseWarningDue(core: Core, conv: ConversationRecord, version: number, now: number): void {
  const promise = conv.promise;
  if (!promise || promise.version !== version || promise.state !== 'open') return;
  promise.state = 'warned';
  step(
    core,
    conv,
    PromiseProgress.PROMISE_PROGRESS_WARNED,
    reason('promise.warned', `the owner and supervisors are warned before ${new Date(promise.dueAt).toISOString()}`),
  );
  tellStaff(core, conv, promise, warningText(promise, promise.dueAt - now));
}

export function promiseDue(core: Core, conv: ConversationRecord, version: number): void {
  const promise = conv.promise;
  if (!promise || promise.version !== version || (promise.state !== 'open' && promise.state !== 'warned')) return;
  promise.state = 'slipped';
  step(
    core,
    conv,
    PromiseProgress.PROMISE_PROGRESS_SLIPPED,
    reason('promise.slipped', `"${promise.milestone}" was not done by its date; the customer is told`),
  );
  tellCustomer(core, conv, slippedText(promise, conv.subject), '');
  tellStaff(core, conv, promise, ownerSlippedText(promise));
}

/** A status message on the customer's channel; a caller (voice) gets it by SMS at the number they called from. */
function tellCustomer(core: Core, conv: ConversationRecord, text: string, agentId: string): void {
  const message = core.out.outbound(conv, OutboundKind.OUTBOUND_KIND_STATUS_UPDATE, text, agentId);
  if (conv.channel === 'voice') message.channel = Channel.CHANNEL_SMS;
}

/** The owner (whoever holds the conversation now) and the supervisors see it on the desk as a note. */
function tellStaff(core: Core, conv: ConversationRecord, promise: PromiseRecord, text: string): void {
  const eventId = core.out.event(conv, reason('promise.noted', 'a note for the owner of the promise'), {
    $case: 'noteAdded',
    noteAdded: { author: 'routing', text },
  });
  const to = new Set([conv.agentId || promise.ownerId, ...core.policy.promiseSupervisors].filter(Boolean));
  const note = { author: 'routing', text };
  for (const agentId of to) {
    core.out.notify(agentId, {
      $case: 'noted',
      noted: { conversationId: conv.id, eventId, addedAt: new Date(core.clock.now()), note, channel: CHANNEL_ENUM[conv.channel] },
    });
  }
}

/** The promise as the desk shows it: to the agent holding the conversation (or its owner), or a supervisor. */
export function readPromise(core: Core, caller: PromiseCaller, conversationId: string): ConversationRecord {
  const conv = conversationOf(core, conversationId);
  if (!caller.supervisor && conv.agentId !== caller.id && conv.promise?.ownerId !== caller.id)
    throw new RoutingError('PERMISSION_DENIED', `conversation ${conversationId} is not yours`);
  return conv;
}

/** The owner holding the conversation, or a supervisor, on a conversation still open. */
function mayChange(core: Core, caller: PromiseCaller, conversationId: string): ConversationRecord {
  const conv = conversationOf(core, conversationId);
  if (conv.state === 'resolved' || conv.state === 'abandoned') throw new RoutingError('FAILED_PRECONDITION', `conversation ${conversationId} is ${conv.state}`);
  if (!caller.supervisor && (conv.state !== 'assigned' || conv.agentId !== caller.id))
    throw new RoutingError('PERMISSION_DENIED', `only the agent holding conversation ${conversationId}, or a supervisor, may change its promise`);
  return conv;
}

function step(core: Core, conv: ConversationRecord, progress: PromiseProgress, why: ReturnType<typeof reason>): void {
  core.out.event(conv, why, { $case: 'promise', promise: promiseStep(conv, progress) });
}

export function promiseStep(conv: ConversationRecord, progress: PromiseProgress): PromiseStep {
  const p = conv.promise!;
  return {
    progress,
    milestone: p.milestone,
    dueAt: new Date(p.dueAt),
    costMinor: p.costMinor,
    costCurrency: p.currency,
    ownerAgentId: p.ownerId,
    setBy: p.setBy,
    version: p.version,
    queue: conv.queue,
  };
}
