// The promise on a long case: the agent or expert holding the conversation, or a supervisor,
// sets it, updates it, marks it kept or reads it. A bad promise (a date in the past, a milestone
// too long, a cost without its currency) ends INVALID_ARGUMENT with the reason, and nothing is sent.
import { PromiseProgress, type RoutingServiceServer } from '#libs/proto';
import type { Caller } from '#libs/auth';
import { promiseStep } from './core/promises';
import type { HandlerDeps } from './grpc-calls';

const HOLDERS = ['agent', 'expert', 'supervisor'] as const;

const promiseCaller = (caller: Caller) => ({ id: caller.id, supervisor: caller.role === 'supervisor' });

export function promiseHandlers({ current, unary }: HandlerDeps): Pick<RoutingServiceServer, 'setPromise' | 'getPromise'> {
  return {
    setPromise: unary('SetPromise', HOLDERS, async (caller, req) => {
      const { engine, runner } = current();
      const who = promiseCaller(caller);
      if (req.kept) {
        const { promise } = await runner.run(() => engine.markPromiseKept(who, req.conversationId));
        const conv = engine.conversationState(req.conversationId)!;
        return { promise: promiseStep(conv, PromiseProgress.PROMISE_PROGRESS_KEPT), statusText: '', state: promise.state };
      }
      const input = { milestone: req.milestone, dueAt: req.dueAt?.getTime(), costMinor: req.costMinor, currency: req.costCurrency };
      const { promise, text } = await runner.run(() => engine.setPromise(who, req.conversationId, input));
      const progress = promise.version > 1 ? PromiseProgress.PROMISE_PROGRESS_UPDATED : PromiseProgress.PROMISE_PROGRESS_SET;
      return { promise: promiseStep(engine.conversationState(req.conversationId)!, progress), statusText: text, state: promise.state };
    }),
    getPromise: unary('GetPromise', HOLDERS, async (caller, req) => {
      const { promise, conversation } = current().engine.promiseOf(promiseCaller(caller), req.conversationId);
      if (!promise) return { promise: undefined, state: '' };
      return { promise: promiseStep(conversation, PromiseProgress.PROMISE_PROGRESS_UNSPECIFIED), state: promise.state };
    }),
  };
}
