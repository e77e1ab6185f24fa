// The state one engine's modules share, and the look-ups that turn ids from a call into records.
import type { AgentRoster } from './agents';
import type { Calendars } from '#libs/calendars';
import type { Outbox } from './outbox';
import type { RoutingPolicy } from './policy';
import { type AgentRecord, type Clock, type ConversationRecord, type CustomerMemory, RoutingError } from './records';
import type { QueueStatistics } from './statistics';
import type { TimerHeap } from './timers';
import type { Waiting } from './waiting';

export interface Core {
  readonly policy: RoutingPolicy;
  readonly clock: Clock;
  readonly agents: AgentRoster;
  readonly conversations: Map<string, ConversationRecord>;
  readonly customers: Map<string, CustomerMemory>;
  readonly waiting: Waiting;
  readonly stats: QueueStatistics;
  readonly timers: TimerHeap;
  readonly out: Outbox;
  /** Opening hours per queue; replaced whole by a supervisor. */
  readonly calendars: Calendars;
  /** Queues whose conversations were held back while closed (hours.ts). */
  readonly held: Set<string>;
}

export function conversationOf(core: Core, id: string): ConversationRecord {
  const c = core.conversations.get(id);
  if (!c) throw new RoutingError('NOT_FOUND', `conversation ${id} is unknown`);
  return c;
}

/** The agent and the conversation, which must be assigned to them. */
export function assignedTo(core: Core, agentId: string, conversationId: string): { agent: AgentRecord; conv: ConversationRecord } {
  const agent = core.agents.get(agentId);
  const conv = conversationOf(core, conversationId);
  if (conv.state !== 'assigned' || conv.agentId !== agentId)
    throw new RoutingError('FAILED_PRECONDITION', `conversation ${conversationId} is not assigned to ${agentId}`);
  return { agent, conv };
}
