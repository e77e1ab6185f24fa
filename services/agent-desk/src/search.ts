// The supervisor's open conversations grouped by queue and agent, so a reassignment is one click.
import type { SearchRow } from '#libs/web';

export interface OpenGroup {
  queue: string;
  /** Empty while it waits for an agent. */
  agentId: string;
  rows: SearchRow[];
}

/** Open conversations by queue, then agent (waiting ones first), oldest activity first within each. */
export function openGroups(rows: readonly SearchRow[]): OpenGroup[] {
  const groups = new Map<string, OpenGroup>();
  for (const r of rows) {
    const key = `${r.queue}\u0000${r.agentId}`;
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { queue: r.queue, agentId: r.agentId, rows: [] }));
    g.rows.push(r);
  }
  for (const g of groups.values()) g.rows.sort((a, b) => a.lastActivityAt - b.lastActivityAt);
  return [...groups.values()].sort((a, b) => a.queue.localeCompare(b.queue) || a.agentId.localeCompare(b.agentId));
}
