// The routing core: agents, conversations, queues, offers, escalation, SLA timers and wait
// estimates. No I/O: time comes from an injected clock, and every decision returns the events
// it produced (each with its Reason) for the adapters to publish and persist.
//
// This class is the one entry point; each call checks its arguments and hands over to the
// module that does the work:
//   presence.ts    agents registering, changing presence, wrap-up
//   intake.ts      contacts opening, reopening or adding to conversations (classify.ts: rules)
//   dispatch.ts    queueing, and matching conversations with agents (matching.ts chooses)
//   offers.ts      offers made, accepted, declined, timed out
//   moves.ts       escalation, hand-back, transfer, reassignment
//   actions.ts     replies, resolution, abandonment (memory.ts: what a customer left behind)
//   callbacks.ts   callbacks keeping the caller's place, their attempts and retries (callback-rules.ts)
//   promises.ts    promises on long cases: status messages, warnings, slipping (promise-rules.ts)
//   scheduled.ts   what comes due with time (sla.ts: first-response targets)
//   statistics.ts  queue statistics and wait estimates; snapshots.ts: restart
// and the state they share (context.ts): agents.ts with ready.ts (who can take work),
// waiting.ts with queue.ts (who waits), targets.ts (the target list), outbox.ts (effects and
// changed records), timers.ts; records.ts has the record shapes, reasons.ts the Reason builder.
import type { ErasureSet } from '#libs/erasure';
import type { AgentState, Attachment, CallbackOutcome, ContactReceived, Presence, QueueStats } from '#libs/proto';
import { abandon, reply, resolve, surveyAnswered } from './actions';
import { addNote, applicationReply, applicationResolve, applicationTransfer } from './applications';
import { AgentRoster } from './agents';
import { Calendars, type CalendarSet } from '#libs/calendars';
import { callbackAttempted } from './callbacks';
import { agentDialInFailed } from './dial-ins';
import { Classifier } from './classify';
import { type HoursEstimate, withHours } from './hours';
import { replaceCalendars } from './opening';
import { assignedTo, type Core, conversationOf } from './context';
import { offerEnded } from './dispatch';
import { contactReceived } from './intake';
import { startConversation, type StartRequest } from './outreach';
import { escalate, handBack, type MoveTarget, moveTo } from './moves';
import { assign, offeredTo } from './offers';
import type { PromiseInput } from './promise-rules';
import { markKept, type PromiseCaller, readPromise, setPromise } from './promises';
import { Outbox } from './outbox';
import type { RoutingPolicy } from './policy';
import { registerAgent, setPresence } from './presence';
import type {
  AgentProfile,
  AgentRecord,
  CalendarsRecord,
  Clock,
  ConversationRecord,
  CustomerInfo,
  CustomerMemory,
  Effect,
  PromiseRecord,
  StateChanges,
} from './records';
import { RoutingError } from './records';
import { displayName, reason } from './reasons';
import { runDue } from './scheduled';
import { restore, type Snapshot } from './snapshots';
import { type ErasedCounts, eraseSubjects } from './erasure';
import { QueueStatistics } from './statistics';
import { TimerHeap } from './timers';
import { Waiting } from './waiting';

export type {
  AgentProfile,
  AgentRecord,
  CalendarsRecord,
  Clock,
  ConversationRecord,
  ConversationState,
  CustomerInfo,
  CustomerMemory,
  Effect,
  StateChanges,
} from './records';
export { RoutingError } from './records';
export { offerView } from './offers';
export class RoutingEngine {
  readonly agents: Map<string, AgentRecord>;
  readonly conversations = new Map<string, ConversationRecord>();
  readonly customers = new Map<string, CustomerMemory>();
  private readonly core: Core;
  private readonly classifier: Classifier;

  constructor(
    readonly policy: RoutingPolicy,
    clock: Clock,
  ) {
    this.classifier = new Classifier(policy);
    const out = new Outbox(clock, policy.messageScope);
    const agents = new AgentRoster(policy, clock, out);
    const waiting = new Waiting();
    const stats = new QueueStatistics(policy, clock.now(), agents, waiting, this.conversations);
    const calendars = new Calendars(policy.calendars);
    this.core = {
      policy,
      clock,
      agents,
      conversations: this.conversations,
      customers: this.customers,
      waiting,
      stats,
      timers: new TimerHeap(),
      out,
      calendars,
      held: new Set(),
    };
    this.agents = agents.records;
  }

  // ---------------------------------------------------------------- agents

  registerAgent(profile: AgentProfile): Effect[] {
    registerAgent(this.core, profile);
    return this.drain();
  }

  setPresence(agentId: string, presence: Presence): Effect[] {
    setPresence(this.core, agentId, presence);
    return this.drain();
  }

  // ---------------------------------------------------------------- contacts

  /** An inbound message: opens, reopens or adds to a conversation. Repeats of a contact id are ignored. */
  contactReceived(contact: ContactReceived, customer: CustomerInfo = {}): Effect[] {
    contactReceived(this.core, this.classifier, contact, customer);
    return this.drain();
  }

  // ---------------------------------------------------------------- agent actions

  accept(agentId: string, conversationId: string): Effect[] {
    const { agent, conv } = offeredTo(this.core, agentId, conversationId);
    agent.missedOffers = 0;
    assign(this.core, conv, agent, this.core.clock.now(), reason('offer.accepted', `${displayName(agent)} accepted the offer`));
    return this.drain();
  }

  decline(agentId: string, conversationId: string): Effect[] {
    const { agent, conv } = offeredTo(this.core, agentId, conversationId);
    offerEnded(this.core, conv, agent, false);
    return this.drain();
  }

  /** Returns the effects and the outbound message id. */
  reply(
    agentId: string,
    conversationId: string,
    text: string,
    subject = '',
    attachments: readonly Attachment[] = [],
  ): { effects: Effect[]; messageId: string } {
    const messageId = reply(this.core, agentId, conversationId, text, subject, attachments);
    return { effects: this.drain(), messageId };
  }

  escalate(agentId: string, conversationId: string, note: string, skill = ''): Effect[] {
    escalate(this.core, agentId, conversationId, note, skill);
    return this.drain();
  }

  handBack(agentId: string, conversationId: string, note: string): Effect[] {
    handBack(this.core, agentId, conversationId, note);
    return this.drain();
  }

  transfer(agentId: string, conversationId: string, target: MoveTarget): Effect[] {
    const { agent, conv } = assignedTo(this.core, agentId, conversationId);
    moveTo(this.core, conv, agent, target, 'agent.transferred');
    return this.drain();
  }

  /** Supervisor: moves a conversation (queued, offered or assigned) to another agent. */
  reassign(conversationId: string, toAgentId: string): Effect[] {
    const conv = conversationOf(this.core, conversationId);
    if (conv.state === 'resolved' || conv.state === 'abandoned')
      throw new RoutingError('FAILED_PRECONDITION', `conversation ${conversationId} is ${conv.state}`);
    const from = conv.agentId ? this.agents.get(conv.agentId) : undefined;
    moveTo(this.core, conv, from, { toAgentId }, 'supervisor.reassigned');
    return this.drain();
  }

  resolve(agentId: string, conversationId: string, disposition: string): Effect[] {
    resolve(this.core, agentId, conversationId, disposition);
    return this.drain();
  }

  /** The customer left before being answered (a caller hung up, a chat closed). */
  abandon(conversationId: string): Effect[] {
    abandon(this.core, conversationId);
    return this.drain();
  }

  /** A channel's SurveyAnswered: a low score is kept for the supervisor to follow up. */
  surveyAnswered(conversationId: string, answer: { score: number; agentId: string }, at: number): Effect[] {
    surveyAnswered(this.core, conversationId, answer, at);
    return this.drain();
  }

  /** The low scores to follow up, newest first. */
  lowScoreFollowUps(max = 100): ConversationRecord[] {
    const found = [...this.core.conversations.values()].filter((c) => c.lowScore);
    return found.sort((a, b) => b.lowScore!.answeredAt - a.lowScore!.answeredAt).slice(0, max);
  }

  /** The voice channel could not dial the assigned agent into the call: another agent gets it. */
  agentDialInFailed(conversationId: string, agentId: string, code: string): Effect[] {
    agentDialInFailed(this.core, conversationId, agentId, code);
    return this.drain();
  }

  /** The voice channel's report of a callback attempt (answered, no answer, busy, failed). */
  callbackAttempted(conversationId: string, outcome: CallbackOutcome, attempt: number): Effect[] {
    callbackAttempted(this.core, conversationId, outcome, attempt);
    return this.drain();
  }

  /** The owner or a supervisor sets or updates the promise on a long case; the customer gets the status. */
  setPromise(caller: PromiseCaller, conversationId: string, input: PromiseInput): { effects: Effect[]; promise: PromiseRecord; text: string } {
    const { promise, text } = setPromise(this.core, caller, conversationId, input);
    return { effects: this.drain(), promise, text };
  }

  /** The conversation's promise, for the agent holding it or a supervisor (PERMISSION_DENIED otherwise). */
  promiseOf(caller: PromiseCaller, conversationId: string): { promise: PromiseRecord | undefined; conversation: ConversationRecord } {
    const conversation = readPromise(this.core, caller, conversationId);
    return { promise: conversation.promise, conversation };
  }

  /** The promise's milestone is done. */
  markPromiseKept(caller: PromiseCaller, conversationId: string): { effects: Effect[]; promise: PromiseRecord } {
    const promise = markKept(this.core, caller, conversationId);
    return { effects: this.drain(), promise };
  }

  /** Runs what is due: offer timeouts, target widening, SLA warnings and breaches, end of wrap-up. */
  tick(): Effect[] {
    runDue(this.core, this.core.clock.now());
    return this.drain();
  }

  // ---------------------------------------------------------------- applications (the integration API)

  applicationReply(a: Parameters<typeof applicationReply>[1]): { effects: Effect[]; messageId: string } {
    const messageId = applicationReply(this.core, a);
    return { effects: this.drain(), messageId };
  }

  addNote(a: Parameters<typeof addNote>[1]): { effects: Effect[]; noteId: string } {
    const noteId = addNote(this.core, a);
    return { effects: this.drain(), noteId };
  }

  applicationResolve(a: Parameters<typeof applicationResolve>[1]): Effect[] {
    applicationResolve(this.core, a);
    return this.drain();
  }

  applicationTransfer(a: Parameters<typeof applicationTransfer>[1]): Effect[] {
    applicationTransfer(this.core, a);
    return this.drain();
  }

  startConversation(s: StartRequest): { effects: Effect[]; conversation: ConversationRecord; messageId: string; created: boolean } {
    const { conv, messageId, created } = startConversation(this.core, this.classifier, s);
    return { effects: this.drain(), conversation: conv, messageId, created };
  }

  // ---------------------------------------------------------------- queries

  /** Position and wait; while the queue is closed the wait includes the closed time, and when it opens is said. */
  waitEstimate(conversationId: string): { queue: string; position: number; fromTarget: boolean } & HoursEstimate {
    const conv = conversationOf(this.core, conversationId);
    const now = this.core.clock.now();
    if (conv.state !== 'queued') return { queue: conv.queue, position: 0, fromTarget: false, ...withHours(this.core, conv.queue, now, 0), estimatedWaitMs: 0 };
    const position = this.core.waiting.position(conv);
    const est = this.core.stats.estimate(conv.queue, conv.channel, position);
    return { queue: conv.queue, position, fromTarget: est.fromTarget, ...withHours(this.core, conv.queue, now, est.estimatedWaitMs) };
  }

  queueStats(): QueueStats[] {
    const now = this.core.clock.now();
    return this.core.stats.queueStats(now).map((q) => ({ ...q, estimatedWaitMs: withHours(this.core, q.queue, now, q.estimatedWaitMs).estimatedWaitMs }));
  }

  // ---------------------------------------------------------------- opening hours

  get calendars(): CalendarSet {
    return this.core.calendars.current;
  }

  /** The calendars a supervisor set, for the changelog; undefined while the configured ones are in force. */
  calendarsRecord(): CalendarsRecord | undefined {
    const changed = this.core.calendars.changed;
    return changed && { id: 'calendars', set: this.core.calendars.current, changedBy: changed.by, changedAt: changed.at };
  }

  /** Supervisor: replaces every queue's calendar (checked beforehand by parseCalendars). */
  setCalendars(set: CalendarSet, changedBy: string): Effect[] {
    replaceCalendars(this.core, set, changedBy);
    return this.drain();
  }

  /** Mean absolute EWT error and mean actual wait over the recent window of one queue. */
  ewtAccuracy(queue: string): { meanAbsoluteErrorMs: number; meanActualWaitMs: number; samples: number } {
    return this.core.stats.accuracy(queue);
  }

  agentState(agentId: string): AgentState {
    return this.core.agents.state(this.core.agents.get(agentId));
  }

  /** The conversation as it stands, for the agent's own checks. */
  conversationState(conversationId: string): ConversationRecord | undefined {
    return this.conversations.get(conversationId);
  }

  // ---------------------------------------------------------------- erasure

  /** Drops what routing holds of erased subjects (erasure.ts); their changelog deletes go with the next commit. */
  erase(erased: ErasureSet): { effects: Effect[]; counts: ErasedCounts } {
    const counts = eraseSubjects(this.core, erased);
    return { effects: this.drain(), counts };
  }

  // ---------------------------------------------------------------- snapshots

  /** Rebuilds state from snapshots. Offers in flight when the process stopped go back to the front of their queue. */
  restore(data: Snapshot): Effect[] {
    restore(this.core, data);
    return this.drain();
  }

  /** True when some record changed since the last takeChanges(). */
  hasChanges(): boolean {
    return this.core.out.hasChanges();
  }

  /** The ids of the records changed since the last call, to be written; the engine forgets them. */
  takeChanges(): StateChanges {
    return this.core.out.takeChanges();
  }

  /** Changes whose write failed: they are taken again with the next ones. */
  returnChanges(changes: StateChanges): void {
    this.core.out.returnChanges(changes);
  }

  private drain(): Effect[] {
    return this.core.out.drain();
  }
}
