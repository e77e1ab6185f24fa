// Erasures in routing: every instance tails cc.erasure.v1 into the set of everything erased (a
// standby too, so the instance that takes over knows all of it). The active instance drops
// what each new erasure names through its runner, in the transaction that writes the
// changelog deletes; a take-over drops everything erased right after restoring from the
// changelog (ownership), which covers erasures made while no instance routed.
import { ErasureReader, ErasureSet } from '#libs/erasure';
import type { ServiceContext, ServiceKafka } from '#libs/service';
import type { RoutingOwnership } from './active';
import { NotActiveError } from './runner';

export class RoutingErasures {
  readonly known: ErasureSet;

  constructor(
    private readonly secret: string,
    private readonly defaultCountry: string,
  ) {
    this.known = new ErasureSet(secret, defaultCountry);
  }

  /** Reads what the topic holds (before this instance may take over), then tails it. */
  async start(ctx: ServiceContext, kafka: ServiceKafka, ownership: () => RoutingOwnership): Promise<void> {
    const reader = new ErasureReader(kafka.kafka, ctx.logger, ctx.name, async (notices, initial) => {
      for (const n of notices) this.known.add(n.subjectKey, n.erasedAt);
      if (!initial && notices.length) await this.apply(ownership(), ErasureSet.of(this.secret, notices, this.defaultCountry), ctx);
    });
    await reader.start();
    ctx.onStop('erasure reader', () => reader.stop());
  }

  private async apply(ownership: RoutingOwnership, erased: ErasureSet, ctx: ServiceContext): Promise<void> {
    // A take-over under way drops everything known once it restored; this waits for it so the
    // erasure is applied by the state that routes.
    await ownership.settled();
    if (!ownership.isActive) return;
    try {
      const { engine, runner } = ownership.current();
      const { counts } = await runner.run(() => engine.erase(erased));
      if (counts.conversations || counts.customers) ctx.logger.info({ ...counts }, 'erased customers dropped from routing');
    } catch (err) {
      // Ownership moved: the next owner drops everything known when it takes over.
      if (!(err instanceof NotActiveError)) throw err;
    }
  }
}
