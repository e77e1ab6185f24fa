// The promise on a long case: the agent or expert holding the conversation, or a supervisor,
// sets it, updates it or marks it kept. A bad promise (a date in the past, a milestone too long,
// a cost without its currency) ends INVALID_ARGUMENT with the reason, and nothing is sent.
import { PromiseProgress, type RoutingServiceServer } from '#libs/proto';
import { promiseStep } from './core/promises';
import type { HandlerDeps } from './grpc-calls';

export function promiseHandlers({ current, unary }: HandlerDeps): Pick<RoutingServiceServer, 'setPromise'> {
  return {
    setPromise: unary('SetPromise', ['agent', 'expert', 'supervisor'], async (caller, req) => {
      const { engine, runner } = current();
      const who = { id: caller.id, supervisor: caller.role === 'supervisor' };
      const conv = () => engine.conversationState(req.conversationId)!;
      if (req.kept) {
        await runner.run(() => engine.markPromiseKept(who, req.conversationId));
        return { promise: promiseStep(conv(), PromiseProgress.PROMISE_PROGRESS_KEPT), statusText: '' };
      }
      const input = { milestone: req.milestone, dueAt: req.dueAt?.getTime(), costMinor: req.costMinor, currency: req.costCurrency };
      const { promise, text } = await runner.run(() => engine.setPromise(who, req.conversationId, input));
      const progress = promise.version > 1 ? PromiseProgress.PROMISE_PROGRESS_UPDATED : PromiseProgress.PROMISE_PROGRESS_SET;
      return { promise: promiseStep(conv(), progress), statusText: text };
    }),
  };
}
