// What supervisors, the ops console and the channels read: wait estimates, queue stats with the
// low survey scores to follow up, agents.
import { CHANNEL_ENUM } from '#libs/contact';
import type { LowScoreFollowUp, RoutingServiceServer } from '#libs/proto';
import type { ConversationRecord } from './core/engine';
import { PEOPLE, type HandlerDeps } from './grpc-calls';

export function readHandlers({ current, unary }: HandlerDeps): Pick<RoutingServiceServer, 'getWaitEstimate' | 'getQueueStats' | 'listAgents'> {
  return {
    getWaitEstimate: unary('GetWaitEstimate', PEOPLE, async (_caller, req) => {
      const { closedUntil, ...estimate } = current().engine.waitEstimate(req.conversationId);
      return { ...estimate, closedUntil: closedUntil ? new Date(closedUntil) : undefined };
    }),
    getQueueStats: unary('GetQueueStats', PEOPLE, async () => {
      const { engine } = current();
      return { queues: engine.queueStats(), lowScoreFollowUps: engine.lowScoreFollowUps().map(lowScoreFollowUp) };
    }),
    listAgents: unary('ListAgents', PEOPLE, async () => {
      const { engine } = current();
      return { agents: [...engine.agents.keys()].sort().map((id) => engine.agentState(id)) };
    }),
  };
}

function lowScoreFollowUp(conv: ConversationRecord): LowScoreFollowUp {
  const { score, agentId, answeredAt } = conv.lowScore!;
  return {
    conversationId: conv.id,
    channel: CHANNEL_ENUM[conv.channel],
    queue: conv.queue,
    agentId,
    score,
    answeredAt: new Date(answeredAt),
    reference: conv.reference,
  };
}
