// Restarting from the records the adapters saved. Waiting conversations take their old place
// in their queues; offers that were open go back to the front (the agent may never have seen
// them); accepted work stays with its agent.
import { scheduleRetry } from './callbacks';
import { schedulePromise } from './promises';
import type { Core } from './context';
import { requeueFromAgent, tryAssign } from './dispatch';
import type { AgentRecord, CalendarsRecord, ConversationRecord, CustomerMemory } from './records';
import { resumeSla } from './sla';
import { scheduleStep } from './targets';

export interface Snapshot {
  agents: AgentRecord[];
  conversations: ConversationRecord[];
  customers: CustomerMemory[];
  /** Set when a supervisor replaced the calendars: they win over the configured ones. */
  calendars?: CalendarsRecord;
}

export function restore(core: Core, data: Snapshot): void {
  const now = core.clock.now();
  if (data.calendars) {
    core.calendars.replace(data.calendars.set, { by: data.calendars.changedBy, at: data.calendars.changedAt });
    // Published again on cc.calendars.v1 (the same record, so the same id): a reader that
    // missed it, or a topic made after the change, gets the hours in force.
    core.out.calendarsChanged();
  }
  for (const a of data.agents) {
    const agent = { ...a };
    core.agents.records.set(a.id, agent);
    core.agents.index(agent);
  }
  for (const c of data.customers) core.customers.set(c.key, c);
  for (const c of data.conversations) core.conversations.set(c.id, { ...c });
  for (const conv of core.conversations.values()) {
    if (conv.state === 'queued' || conv.state === 'offered') resumeSla(core, conv);
    if (conv.promise) schedulePromise(core, conv, conv.promise);
    if (conv.state === 'queued') {
      core.waiting.insert(conv);
      scheduleStep(core, conv);
      if (conv.callback?.state === 'retry-wait') scheduleRetry(core, conv, conv.callback);
    } else if (conv.state === 'offered') {
      const agent = core.agents.records.get(conv.agentId);
      if (agent) requeueFromAgent(core, conv, agent, 'restart.offer_revoked', 'routing restarted while the offer was open');
    }
  }
  // Conversations counted in an agent's load but no longer theirs are dropped from the load.
  for (const a of core.agents.records.values()) {
    a.active = a.active.filter((id) => core.conversations.get(id)?.agentId === a.id);
    core.agents.updateReady(a);
  }
  for (const conv of core.conversations.values()) if (conv.state === 'queued') tryAssign(core, conv, now);
}
