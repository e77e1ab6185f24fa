// Moving a conversation on: escalation to the experts (tier 2) and back, transfer to another
// agent or queue, and a supervisor's reassignment.
import { OutboundKind, type Reason, Tier } from '#libs/proto';
import { isSkillName } from './agents';
import { assignedTo, type Core } from './context';
import { enqueue, pullFor } from './dispatch';
import { assign, release } from './offers';
import { type AgentRecord, type ConversationRecord, RoutingError } from './records';
import { displayName, reason } from './reasons';
import { queueName } from './waiting';

export interface MoveTarget {
  toAgentId?: string;
  toQueue?: string;
  note?: string;
}

/** Into the experts' queue for `skill`; the customer is told a specialist will answer. */
export function moveToExperts(core: Core, conv: ConversationRecord, fromAgentId: string, note: string, skill: string, automatic: boolean, r: Reason): void {
  if (fromAgentId) conv.tier1AgentId = fromAgentId;
  conv.tier = Tier.TIER_EXPERT;
  conv.escalated = true;
  conv.skill = skill;
  conv.escalationNote = note;
  conv.declinedBy = [];
  const queue = queueName(conv.tier, skill, conv.channel);
  core.out.event(conv, r, { $case: 'escalated', escalated: { fromAgentId, note, queue, skill, automatic } });
  core.out.outbound(
    conv,
    OutboundKind.OUTBOUND_KIND_STATUS_UPDATE,
    'Your conversation has been passed to a specialist, who will answer you as soon as possible.',
    '',
  );
  enqueue(core, conv, false, r);
}

export function escalate(core: Core, agentId: string, conversationId: string, note: string, skill: string): void {
  const { agent, conv } = assignedTo(core, agentId, conversationId);
  if (conv.tier === Tier.TIER_EXPERT) throw new RoutingError('FAILED_PRECONDITION', 'the conversation is already with the experts');
  checkNote(note);
  if (skill && !isSkillName(skill)) throw new RoutingError('INVALID_ARGUMENT', 'skill must be lower-case letters, digits, _ or -');
  release(core, conv, agent);
  moveToExperts(core, conv, agentId, note, skill || conv.skill, false, reason('agent.escalated', `${displayName(agent)} escalated to the experts`));
  pullFor(core, agent);
}

/** An expert hands the conversation back; the front-office agent who escalated it is its first target (as "last agent"). */
export function handBack(core: Core, agentId: string, conversationId: string, note: string): void {
  const { agent, conv } = assignedTo(core, agentId, conversationId);
  if (conv.tier !== Tier.TIER_EXPERT) throw new RoutingError('FAILED_PRECONDITION', 'only an escalated conversation can be handed back');
  release(core, conv, agent);
  core.out.event(conv, reason('expert.handed_back', `${displayName(agent)} handed the conversation back to the front office`), {
    $case: 'handedBack',
    handedBack: { expertAgentId: agentId, note },
  });
  conv.tier = Tier.TIER_FRONT_OFFICE;
  conv.escalated = false;
  conv.escalationNote = note;
  if (conv.tier1AgentId) conv.lastAgentId = conv.tier1AgentId;
  conv.accountManagerId = '';
  enqueue(core, conv, true, reason('expert.handed_back', 'back in the front-office queue, at the front'));
  pullFor(core, agent);
}

/** Moves the conversation from `from` (or from its queue) to the named agent or queue. */
export function moveTo(core: Core, conv: ConversationRecord, from: AgentRecord | undefined, target: MoveTarget, code: string): void {
  const note = target.note ?? '';
  checkNote(note);
  if (target.toAgentId) moveToAgent(core, conv, from, core.agents.get(target.toAgentId), note, code);
  else moveToQueue(core, conv, from, target.toQueue, note, code);
}

function moveToAgent(core: Core, conv: ConversationRecord, from: AgentRecord | undefined, to: AgentRecord, note: string, code: string): void {
  const now = core.clock.now();
  if (to.id === from?.id && conv.state === 'assigned') throw new RoutingError('FAILED_PRECONDITION', 'the conversation is already with that agent');
  if (!core.agents.hasRoom(to, conv.channel))
    throw new RoutingError('FAILED_PRECONDITION', `agent ${to.id} has no room for a ${conv.channel} conversation now`);
  if (conv.state === 'queued') core.waiting.leave(conv);
  if (from) {
    release(core, conv, from);
    core.out.revoked(from.id, conv.id, reason(code, `moved to ${to.id}`));
  }
  const r = reason(code, `moved from ${from?.id ?? 'the queue'} to ${to.id}`, { eligibleAgents: 1, whyChosen: 'named by the person who moved it' });
  core.out.event(conv, r, { $case: 'transferred', transferred: { fromAgentId: from?.id ?? '', toAgentId: to.id, toQueue: '', note } });
  conv.escalationNote = note || conv.escalationNote;
  if (to.tier === Tier.TIER_EXPERT) conv.tier = Tier.TIER_EXPERT;
  assign(core, conv, to, now, r);
  if (from) pullFor(core, from);
}

/** `toQueue`: a skill, tier1/<skill> or tier2/<skill>, optionally with the conversation's own channel. */
function moveToQueue(core: Core, conv: ConversationRecord, from: AgentRecord | undefined, toQueue: string | undefined, note: string, code: string): void {
  if (!toQueue) throw new RoutingError('INVALID_ARGUMENT', 'give either to_agent_id or to_queue');
  const m = /^(?:tier([12])\/)?([a-z0-9_-]{1,64})(?:\/(voice|chat|sms|email|api|whatsapp))?$/.exec(toQueue);
  if (!m) throw new RoutingError('INVALID_ARGUMENT', 'to_queue must be a skill or tier1/<skill> or tier2/<skill>');
  if (m[3] && m[3] !== conv.channel) throw new RoutingError('INVALID_ARGUMENT', `the conversation is on ${conv.channel}, not ${m[3]}`);
  if (conv.state === 'queued') core.waiting.leave(conv);
  if (from) release(core, conv, from);
  const tier = m[1] === '2' ? Tier.TIER_EXPERT : m[1] === '1' ? Tier.TIER_FRONT_OFFICE : conv.tier;
  const skill = m[2]!;
  const queue = queueName(tier, skill, conv.channel);
  const r = reason(code, `moved to the ${queue} queue`);
  core.out.event(conv, r, { $case: 'transferred', transferred: { fromAgentId: from?.id ?? '', toAgentId: '', toQueue: queue, note } });
  if (tier === Tier.TIER_EXPERT && conv.tier === Tier.TIER_FRONT_OFFICE && from) conv.tier1AgentId = from.id;
  conv.tier = tier;
  conv.escalated = tier === Tier.TIER_EXPERT;
  conv.skill = skill;
  conv.escalationNote = note || conv.escalationNote;
  conv.declinedBy = [];
  conv.state = 'queued';
  enqueue(core, conv, false, r);
  if (from) pullFor(core, from);
}

function checkNote(note: string): void {
  if (note.length > 5000) throw new RoutingError('INVALID_ARGUMENT', 'note is longer than 5,000 characters');
}
