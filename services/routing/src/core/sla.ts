// First-response targets: from the customer's first contact, a warning at a share of the
// target, a breach at the target, "met" when the conversation is answered. What counts as the
// answer depends on the channel (see offers.ts and actions.ts). The clock counts the queue's
// open time only: a timer is set at the earliest the target could be reached (as if always
// open) and, when it fires, is set again for the instant the open time really reaches it. So
// a timer is never late, whatever the calendar became meanwhile.
import { SlaEventKind } from '#libs/proto';
import type { Core } from './context';
import type { ConversationRecord } from './records';

/** Schedules the warning and the breach of a new conversation. */
export function startSla(core: Core, conv: ConversationRecord): void {
  const target = core.policy.slaTargetMs[conv.channel];
  core.timers.push(conv.createdAt + target * core.policy.slaWarningShare, 'sla_warning', conv.id, 0);
  core.timers.push(conv.createdAt + target, 'sla_breach', conv.id, 0);
}

/** After a restart: schedules again what is still to come of a waiting conversation's target. */
export function resumeSla(core: Core, conv: ConversationRecord): void {
  if (conv.slaState === 'stopped' || conv.slaState === 'breached') return;
  const target = core.policy.slaTargetMs[conv.channel];
  if (conv.slaState === 'running') core.timers.push(conv.createdAt + target * core.policy.slaWarningShare, 'sla_warning', conv.id, 0);
  core.timers.push(conv.createdAt + target, 'sla_breach', conv.id, 0);
}

/** The conversation was answered: met (or not) is counted once, unless it already breached. */
export function stopSla(core: Core, conv: ConversationRecord, now: number): void {
  if (conv.slaState === 'stopped' || conv.slaState === 'breached') {
    conv.slaState = 'stopped';
    return;
  }
  conv.slaState = 'stopped';
  const target = core.policy.slaTargetMs[conv.channel];
  const elapsed = core.calendars.elapsed(conv.queue, conv.createdAt, now);
  core.stats.slaOutcome(conv.queue, elapsed <= target);
  core.out.sla(conv, SlaEventKind.SLA_EVENT_KIND_MET, target, elapsed);
}

/** The open time since the conversation opened, when it reached `share` of the target by `at`; else the timer is set again. */
function reached(core: Core, conv: ConversationRecord, at: number, share: number, kind: 'sla_warning' | 'sla_breach'): number | undefined {
  const due = core.policy.slaTargetMs[conv.channel] * share;
  const elapsed = core.calendars.elapsed(conv.queue, conv.createdAt, at);
  if (elapsed >= due) return elapsed;
  core.timers.push(Math.max(at + 1, core.calendars.after(conv.queue, conv.createdAt, due)), kind, conv.id, 0);
  return undefined;
}

export function slaWarningDue(core: Core, conv: ConversationRecord, at: number): void {
  if (conv.slaState !== 'running' || conv.state === 'resolved' || conv.state === 'abandoned') return;
  const elapsed = reached(core, conv, at, core.policy.slaWarningShare, 'sla_warning');
  if (elapsed === undefined) return;
  conv.slaState = 'warned';
  core.out.sla(conv, SlaEventKind.SLA_EVENT_KIND_WARNING, core.policy.slaTargetMs[conv.channel], elapsed);
}

/** True when the conversation breached its target now. */
export function slaBreachDue(core: Core, conv: ConversationRecord, at: number): boolean {
  if (conv.slaState === 'stopped' || conv.slaState === 'breached' || conv.state === 'resolved' || conv.state === 'abandoned') return false;
  const elapsed = reached(core, conv, at, 1, 'sla_breach');
  if (elapsed === undefined) return false;
  conv.slaState = 'breached';
  core.stats.slaOutcome(conv.queue, false);
  core.out.sla(conv, SlaEventKind.SLA_EVENT_KIND_BREACH, core.policy.slaTargetMs[conv.channel], elapsed);
  return true;
}
