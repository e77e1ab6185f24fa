// How many agents staff each tier and skill (logged in: available, busy or in wrap-up), kept
// up to date as presences change, so that a wait estimate reads a count instead of walking
// every agent with the skill (thousands of them at a large site, after every presence change).
import { Presence } from '#libs/proto';
import type { AgentRecord } from './records';

/** Presences in which an agent counts as staffing their queues. */
const STAFFED_PRESENCE = new Set([Presence.PRESENCE_AVAILABLE, Presence.PRESENCE_BUSY, Presence.PRESENCE_WRAP_UP]);

interface Counted {
  /** The tier/skill keys the agent's record counts under. */
  keys: string[];
  staffed: boolean;
}

export class StaffingCounts {
  private readonly counts = new Map<string, number>();
  private readonly agents = new Map<string, Counted>();

  /** The agent's record (new, or replacing the one of that id) counts from now. */
  track(agent: AgentRecord): void {
    this.untrack(agent.id);
    const counted = { keys: Object.keys(agent.skills).map((skill) => `${agent.tier}/${skill}`), staffed: false };
    this.agents.set(agent.id, counted);
    this.presenceChanged(agent);
  }

  untrack(agentId: string): void {
    const counted = this.agents.get(agentId);
    if (!counted) return;
    if (counted.staffed) this.add(counted.keys, -1);
    this.agents.delete(agentId);
  }

  /** The agent's presence was set: they may have come in or gone out of the staffed ones. */
  presenceChanged(agent: AgentRecord): void {
    const counted = this.agents.get(agent.id);
    const staffed = STAFFED_PRESENCE.has(agent.presence);
    if (!counted || counted.staffed === staffed) return;
    counted.staffed = staffed;
    this.add(counted.keys, staffed ? 1 : -1);
  }

  /** Agents of the tier with the skill staffed now (`key`: tier/skill). */
  count(key: string): number {
    return this.counts.get(key) ?? 0;
  }

  private add(keys: string[], n: number): void {
    for (const key of keys) this.counts.set(key, (this.counts.get(key) ?? 0) + n);
  }
}
