// What comes due with time: offer deadlines, target steps widening, SLA warnings and breaches,
// the end of wrap-up, a callback's next attempt, a promise's warning and deadline. Timers are never cancelled; each handler first checks it is still live.
import { RiskLevel, Tier } from '#libs/proto';
import { retryDue } from './callbacks';
import type { Core } from './context';
import { offerEnded, tryAssign } from './dispatch';
import { moveToExperts } from './moves';
import { promiseDue, promiseWarningDue } from './promises';
import { offerOpened } from './opening';
import { endWrapUp } from './presence';
import type { ConversationRecord } from './records';
import { reason } from './reasons';
import { slaBreachDue, slaWarningDue } from './sla';
import { scheduleStep, stepDue } from './targets';
import type { Timer } from './timers';

export function runDue(core: Core, now: number): void {
  // One record for every timer taken off the heap: fire reads it before the next is taken.
  const t: Timer = { at: 0, kind: 'offer', id: '', version: 0 };
  while (core.timers.popDue(now, t)) fire(core, t, now);
  if (core.held.size) offerOpened(core, now);
}

function fire(core: Core, t: Timer, now: number): void {
  if (t.kind === 'wrap_up') return endWrapUp(core, t.id, t.at, now);
  const conv = core.conversations.get(t.id);
  if (!conv) return;
  switch (t.kind) {
    case 'offer':
      if (conv.state === 'offered' && t.version === conv.offerSeq) offerEnded(core, conv, core.agents.get(conv.agentId), true);
      return;
    case 'step':
      if (conv.state === 'queued' && t.version === conv.stepSeq && stepDue(core, conv, t.at)) nextStep(core, conv, t.at, now);
      return;
    case 'sla_warning':
      return slaWarningDue(core, conv, t.at);
    case 'sla_breach':
      return slaBreach(core, conv, t.at);
    case 'callback_retry':
      return retryDue(core, conv, t.version, now);
    case 'promise_warning':
      return promiseWarningDue(core, conv, t.version, now);
    case 'promise_due':
      return promiseDue(core, conv, t.version);
  }
}

/** The step's time is up: the list widens (unless at its end) and the conversation is offered again. */
function nextStep(core: Core, conv: ConversationRecord, at: number, now: number): void {
  if (conv.stepIndex < conv.steps.length - 1) {
    conv.stepIndex++;
    conv.stepSince = at;
    core.waiting.stepChanged(conv);
    core.out.conversationChanged(conv.id);
    scheduleStep(core, conv);
  }
  tryAssign(core, conv, now);
}

/** A high-risk conversation still waiting in the front office when it breaches goes to the experts. */
function slaBreach(core: Core, conv: ConversationRecord, at: number): void {
  if (!slaBreachDue(core, conv, at)) return;
  if (conv.classification.risk === RiskLevel.RISK_LEVEL_HIGH && conv.tier === Tier.TIER_FRONT_OFFICE && conv.state === 'queued') {
    core.waiting.leave(conv);
    moveToExperts(
      core,
      conv,
      '',
      '',
      conv.skill,
      true,
      reason('rule.sla_breach_high_risk', 'first-response target breached on a high-risk conversation', { rule: 'sla-breach-high-risk' }),
    );
  }
}
