// An agent's answer to an offer: accept it or decline it.
import type { RoutingServiceServer } from '#libs/proto';
import { AGENTS, type HandlerDeps } from './grpc-calls';

export function offerHandlers({ current, unary }: HandlerDeps): Pick<RoutingServiceServer, 'acceptOffer' | 'declineOffer'> {
  return {
    acceptOffer: unary('AcceptOffer', AGENTS, async (caller, req) => {
      const { engine, runner } = current();
      await runner.run(() => engine.accept(caller.id, req.conversationId));
      return {};
    }),
    declineOffer: unary('DeclineOffer', AGENTS, async (caller, req) => {
      const { engine, runner } = current();
      await runner.run(() => engine.decline(caller.id, req.conversationId));
      return {};
    }),
  };
}
