// Waiting conversations meet agents: a conversation entering its queue is offered to the best
// agent at once if anyone may take it; an agent who gets room pulls the most urgent
// conversation they may take. Either way the match becomes an offer (offers.ts).
import { waitInWords } from '#libs/contact';
import { OutboundKind, type Reason } from '#libs/proto';
import type { Core } from './context';
import { mayOffer, withHours } from './hours';
import { bestAgentFor, bestConversationFor } from './matching';
import { endOffer, offer, release } from './offers';
import type { AgentRecord, ConversationRecord } from './records';
import { reason } from './reasons';
import { scheduleStep, stepText, targetList } from './targets';
import { queueName } from './waiting';

/**
 * Puts the conversation in its tier's queue for its skill and channel, with a new target list,
 * and offers it if anyone may take it. `front`: ahead of everyone waiting (it was taken away
 * from an agent or handed back). The customer hears their place and wait when it has to wait.
 */
export function enqueue(core: Core, conv: ConversationRecord, front: boolean, r: Reason): void {
  const now = core.clock.now();
  const firstTime = conv.state === 'new';
  conv.queue = queueName(conv.tier, conv.skill, conv.channel);
  conv.state = 'queued';
  conv.agentId = '';
  conv.enqueuedAt = now;
  const queue = core.waiting.queue(conv.queue);
  conv.queueKey = front ? queue.frontKey() : conv.points * core.policy.ageingStepMs - now;
  conv.steps = targetList(conv, core.agents.records);
  conv.stepIndex = 0;
  conv.stepSince = now;
  core.waiting.insert(conv);
  core.stats.arrived(conv.queue, now);
  scheduleStep(core, conv);
  const position = queue.position(conv.id);
  const est = withHours(core, conv.queue, now, core.stats.estimate(conv.queue, conv.channel, position).estimatedWaitMs);
  conv.estimateMs = est.estimatedWaitMs;
  core.out.event(conv, r, {
    $case: 'queued',
    queued: {
      queue: conv.queue,
      skill: conv.skill,
      tier: conv.tier,
      priority: conv.points,
      position,
      estimatedWaitMs: est.estimatedWaitMs,
      risk: conv.classification.risk,
      complexity: conv.classification.complexity,
    },
  });
  tryAssign(core, conv, now);
  if (conv.state === 'queued' && (firstTime || front)) tellPlace(core, conv, queue.position(conv.id), now);
}

/** The customer's place and wait; while closed, when the queue opens and they will be answered. */
function tellPlace(core: Core, conv: ConversationRecord, p: number, now: number): void {
  const e = withHours(core, conv.queue, now, core.stats.estimate(conv.queue, conv.channel, p).estimatedWaitMs);
  // One "we are closed" message: the email acknowledgement already told this very opening. Told
  // another one (the classified queue keeps other hours), the customer gets routing's, which is right.
  if (e.closedNotice && e.closedUntil && e.closedUntil === conv.toldClosedUntil) return;
  const text = e.closedNotice
    ? `${e.closedNotice} You are number ${p} in the queue.`
    : `You are number ${p} in the queue. Estimated wait: ${waitInWords(e.estimatedWaitMs, { smallest: 'second' })}.`;
  core.out.outbound(conv, OutboundKind.OUTBOUND_KIND_STATUS_UPDATE, text, '', '', p, e.estimatedWaitMs, e);
}

/** Offers a waiting conversation to the best eligible agent, if any. */
export function tryAssign(core: Core, conv: ConversationRecord, now: number): void {
  if (conv.state !== 'queued' || !mayOffer(core, conv, now)) return;
  const choice = bestAgentFor(core, conv);
  if (!choice) return;
  const { agent, step, eligible } = choice;
  const why = `${stepText(step)}; ${eligible > 1 ? 'longest idle among them' : 'the only one free'}: idle ${Math.round((now - agent.idleSince) / 1000)} s, ${agent.active.length} active`;
  offer(core, conv, agent, now, step, eligible, why);
}

/** An agent has room: offers them the most urgent conversations they may take, while room lasts. */
export function pullFor(core: Core, agent: AgentRecord): void {
  const now = core.clock.now();
  for (let guard = 0; guard < 100 && core.agents.canPull(agent); guard++) {
    const choice = bestConversationFor(core, agent);
    if (!choice) return;
    offer(
      core,
      choice.conv,
      agent,
      now,
      choice.step,
      1,
      `${stepText(choice.step)}; first eligible agent to have room, most urgent conversation in the queues they serve`,
    );
  }
}

/** A declined or timed-out offer: on to the next candidate; an agent who declined is free for another conversation. */
export function offerEnded(core: Core, conv: ConversationRecord, agent: AgentRecord, timedOut: boolean): void {
  endOffer(core, conv, agent, timedOut);
  tryAssign(core, conv, core.clock.now());
  if (!timedOut) pullFor(core, agent);
}

/** Takes the conversation away from the agent (who went away, or routing restarted) and puts it first in its queue. */
export function requeueFromAgent(core: Core, conv: ConversationRecord, agent: AgentRecord, code: string, text: string): void {
  release(core, conv, agent);
  core.out.revoked(agent.id, conv.id, reason(code, text));
  conv.declinedBy = [agent.id];
  const r = reason(code, text);
  core.out.event(conv, r, { $case: 'requeued', requeued: { previousAgentId: agent.id } });
  // The agent is no longer a target of their own step.
  if (conv.lastAgentId === agent.id) conv.lastAgentId = '';
  if (conv.accountManagerId === agent.id) conv.accountManagerId = '';
  conv.state = 'queued';
  enqueue(core, conv, true, r);
}
