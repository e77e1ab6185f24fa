// Agents coming and going: registration, presence changes, and wrap-up after a resolution.
// An agent who becomes available pulls waiting work; one who leaves gives theirs back.
import { Presence } from '#libs/proto';
import type { Core } from './context';
import { pullFor, requeueFromAgent } from './dispatch';
import { type AgentProfile, type AgentRecord, RoutingError } from './records';

export function registerAgent(core: Core, profile: AgentProfile): void {
  const agent = core.agents.register(profile);
  core.agents.changed(agent);
  if (agent.presence === Presence.PRESENCE_AVAILABLE) pullFor(core, agent);
}

export function setPresence(core: Core, agentId: string, presence: Presence): void {
  const agent = core.agents.get(agentId);
  const now = core.clock.now();
  if (presence === Presence.PRESENCE_UNSPECIFIED) throw new RoutingError('INVALID_ARGUMENT', 'presence must be set');
  const previous = agent.presence;
  core.agents.setPresenceOf(agent, presence);
  agent.wrapUpUntil = 0;
  if (presence === Presence.PRESENCE_AVAILABLE) {
    agent.missedOffers = 0;
    if (previous !== Presence.PRESENCE_AVAILABLE && agent.active.length === 0) agent.idleSince = now;
  }
  if (presence === Presence.PRESENCE_WRAP_UP) startWrapUp(core, agent, now);
  if (presence === Presence.PRESENCE_OFFLINE) {
    // Unfinished work goes back to the front of its queue for someone else.
    for (const id of [...agent.active]) requeueFromAgent(core, core.conversations.get(id)!, agent, 'agent.offline', 'the agent went offline');
  } else if (presence !== Presence.PRESENCE_AVAILABLE) {
    // Busy or away keeps what was accepted; open offers go to someone else.
    for (const id of [...agent.active]) {
      const conv = core.conversations.get(id)!;
      if (conv.state === 'offered') requeueFromAgent(core, conv, agent, 'agent.unavailable', 'the agent stopped taking conversations before accepting');
    }
  }
  // Only now: the offers requeued above were estimated with the staffing counts from before.
  core.agents.staffingChanged();
  core.agents.changed(agent);
  if (presence === Presence.PRESENCE_AVAILABLE) pullFor(core, agent);
}

/** After a resolution, an available agent gets the policy's wrap-up time before the next offer. */
export function wrapUpAfterResolution(core: Core, agent: AgentRecord, now: number): boolean {
  if (core.policy.wrapUpMs <= 0 || agent.presence !== Presence.PRESENCE_AVAILABLE) return false;
  core.agents.setPresenceOf(agent, Presence.PRESENCE_WRAP_UP);
  startWrapUp(core, agent, now);
  core.agents.changed(agent);
  return true;
}

function startWrapUp(core: Core, agent: AgentRecord, now: number): void {
  if (core.policy.wrapUpMs <= 0) return;
  agent.wrapUpUntil = now + core.policy.wrapUpMs;
  core.timers.push(agent.wrapUpUntil, 'wrap_up', agent.id, 0);
}

/** The wrap-up timer that ends at `at` came due; it is stale if the agent changed presence since. */
export function endWrapUp(core: Core, agentId: string, at: number, now: number): void {
  const agent = core.agents.records.get(agentId);
  if (!agent || agent.presence !== Presence.PRESENCE_WRAP_UP || agent.wrapUpUntil !== at) return;
  core.agents.setPresenceOf(agent, Presence.PRESENCE_AVAILABLE);
  agent.wrapUpUntil = 0;
  if (agent.active.length === 0) agent.idleSince = now;
  core.agents.changed(agent);
  pullFor(core, agent);
}
