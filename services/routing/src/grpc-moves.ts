// What agents do with a conversation they hold (reply, escalate, transfer, hand back, resolve),
// and a supervisor moving one to another agent.
import type { RoutingServiceServer } from '#libs/proto';
import { InvalidArgumentError } from '#libs/service';
import { AGENTS, type HandlerDeps } from './grpc-calls';

type ConversationMoves = Pick<RoutingServiceServer, 'reply' | 'escalate' | 'transfer' | 'handBack' | 'resolve' | 'reassign'>;

export function moveHandlers({ current, unary }: HandlerDeps): ConversationMoves {
  return {
    reply: unary('Reply', AGENTS, async (caller, req) => {
      const { engine, runner } = current();
      const { messageId } = await runner.run(() => engine.reply(caller.id, req.conversationId, req.text, req.subject.slice(0, 500), req.attachments));
      return { outboundMessageId: messageId };
    }),
    escalate: unary('Escalate', AGENTS, async (caller, req) => {
      const { engine, runner } = current();
      await runner.run(() => engine.escalate(caller.id, req.conversationId, req.note, req.skill));
      return {};
    }),
    transfer: unary('Transfer', AGENTS, async (caller, req) => {
      if (Boolean(req.toAgentId) === Boolean(req.toQueue)) throw new InvalidArgumentError('give exactly one of to_agent_id and to_queue');
      const { engine, runner } = current();
      await runner.run(() =>
        engine.transfer(caller.id, req.conversationId, { toAgentId: req.toAgentId || undefined, toQueue: req.toQueue || undefined, note: req.note }),
      );
      return {};
    }),
    handBack: unary('HandBack', ['expert'], async (caller, req) => {
      const { engine, runner } = current();
      await runner.run(() => engine.handBack(caller.id, req.conversationId, req.note));
      return {};
    }),
    resolve: unary('Resolve', AGENTS, async (caller, req) => {
      const { engine, runner } = current();
      await runner.run(() => engine.resolve(caller.id, req.conversationId, req.disposition));
      return {};
    }),
    reassign: unary('Reassign', ['supervisor'], async (_caller, req) => {
      const { engine, runner } = current();
      await runner.run(() => engine.reassign(req.conversationId, req.toAgentId));
      return {};
    }),
  };
}
