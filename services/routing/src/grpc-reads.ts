// What supervisors, the ops console and the channels read: wait estimates, queue stats, agents.
import type { RoutingServiceServer } from '#libs/proto';
import { PEOPLE, type HandlerDeps } from './grpc-calls';

export function readHandlers({ current, unary }: HandlerDeps): Pick<RoutingServiceServer, 'getWaitEstimate' | 'getQueueStats' | 'listAgents'> {
  return {
    getWaitEstimate: unary('GetWaitEstimate', PEOPLE, async (_caller, req) => {
      const { closedUntil, ...estimate } = current().engine.waitEstimate(req.conversationId);
      return { ...estimate, closedUntil: closedUntil ? new Date(closedUntil) : undefined };
    }),
    getQueueStats: unary('GetQueueStats', PEOPLE, async () => ({ queues: current().engine.queueStats() })),
    listAgents: unary('ListAgents', PEOPLE, async () => {
      const { engine } = current();
      return { agents: [...engine.agents.keys()].sort().map((id) => engine.agentState(id)) };
    }),
  };
}
