// How many agents a queue needs: Erlang C for the contacts arriving now, and never fewer than
// it takes to answer every contact already waiting within the queue's (first-response) target. Without the second
// rule an email or SMS queue with a backlog and no recent arrivals (nobody staffed, a quiet
// hour, a restart) showed "needed 0" beside a hundred waiting contacts.
import { serversNeeded } from './erlang';

export interface StaffingInput {
  arrivalsPerMs: number;
  handleMs: number;
  /** The channel's first-response target. */
  targetMs: number;
  /** Share of contacts to answer within the target (0..1). */
  targetLevel: number;
  /** Contacts waiting in the queue now. */
  waiting: number;
  /** Contacts one agent works at once on this channel. */
  perAgent: number;
}

/**
 * Agents to answer `waiting` contacts within `targetMs`: each of an agent's `perAgent` slots
 * takes one at once and another each time a contact is finished (every `handleMs`), so it
 * answers `1 + floor(targetMs / handleMs)` within the target.
 */
export function agentsForBacklog(waiting: number, handleMs: number, targetMs: number, perAgent: number): number {
  if (waiting <= 0) return 0;
  const perSlot = 1 + Math.floor(Math.max(0, targetMs) / Math.max(1, handleMs));
  return Math.ceil(waiting / (Math.max(1, perAgent) * perSlot));
}

/** The larger of the two needs: steady arrivals (Erlang C) and the backlog. */
export function agentsNeeded(input: StaffingInput, maxServers = 10_000): number {
  const perAgent = Math.max(1, input.perAgent);
  const forArrivals = Math.ceil(serversNeeded(input.arrivalsPerMs, input.handleMs, input.targetMs, input.targetLevel, maxServers) / perAgent);
  return Math.max(forArrivals, agentsForBacklog(input.waiting, input.handleMs, input.targetMs, perAgent));
}
