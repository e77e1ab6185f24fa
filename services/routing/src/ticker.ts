// Routing's clock: offers expiring, SLA timers and wrap-ups are decided by the active instance
// on a steady tick, each tick's decisions committed like any other.
import { faultKind, isTransient } from '#libs/faults';
import { errorDetails } from '#libs/observability';
import type { ServiceContext } from '#libs/service';
import type { RoutingOwnership } from './active';
import { NotActiveError } from './runner';

export function startTicker(ctx: ServiceContext, ownership: RoutingOwnership, tickMs: number): void {
  let lastTickFault = 0;
  const ticker = setInterval(() => {
    ownership.check();
    if (!ownership.isActive) return;
    const { engine, runner } = ownership.current();
    runner
      .run(() => engine.tick())
      .catch((err: unknown) => {
        if (err instanceof NotActiveError) return;
        // A broker outage fails every tick: it is said once every 10 s, not five times a second.
        if (isTransient(err) && Date.now() - lastTickFault < 10_000) return;
        lastTickFault = Date.now();
        ctx.logger.error({ ...errorDetails(err), fault: faultKind(err) }, 'routing timers failed; retrying on the next tick');
      });
  }, tickMs);
  ctx.onStop('routing timers', () => clearInterval(ticker));
}
