// The retention sweep on a timer: each turn one instance (whichever claims the turn's slot) deletes
// what is past its window from the store and its own search index; every instance sweeps its own
// index, which no other instance can reach. Counted in cc_customer_record_retention_deleted_total
// and logged as counts, without ids or data.
import type { Counter, Registry } from 'prom-client';
import { errorDetails, sharedCounter, type Logger } from '#libs/observability';
import { retentionCutoffs, sweepSlot, type RetentionWindows } from './retention';
import type { SqliteConversationIndex } from './search/sqlite-index';
import type { RetentionStore, SweptCounts } from './store/retention';

export interface RetentionSweepDeps {
  store: RetentionStore;
  index: Pick<SqliteConversationIndex, 'sweep'>;
  windows: RetentionWindows;
  intervalMs: number;
  instanceId: string;
  logger: Logger;
  metrics: Registry;
}

export class RetentionSweep {
  private readonly deleted: Counter<'kind'>;
  private running: Promise<unknown> = Promise.resolve();

  constructor(private readonly deps: RetentionSweepDeps) {
    this.deleted = sharedCounter(deps.metrics, {
      name: 'cc_customer_record_retention_deleted_total',
      help: 'Documents and index rows the retention sweep deleted or emptied, by kind',
      labelNames: ['kind'],
    });
  }

  /** One turn at `now`; the store's counts, or null when another instance has the turn. Turns never overlap here. */
  run(now = new Date()): Promise<(SweptCounts & { indexTexts: number; indexConversations: number }) | null> {
    const turn = this.running.then(() => this.turn(now));
    this.running = turn.catch((err: unknown) => this.deps.logger.error(errorDetails(err), 'retention sweep failed; the next turn tries again'));
    return turn;
  }

  private async turn(now: Date) {
    const { store, index, windows, intervalMs, instanceId, logger } = this.deps;
    const cutoffs = retentionCutoffs(now, windows);
    const local = index.sweep(cutoffs.textsBefore.getTime(), cutoffs.conversationsBefore.getTime());
    this.count({ indexTexts: local.texts, indexConversations: local.conversations });
    const slot = sweepSlot(now, intervalMs);
    if (!(await store.claim(slot, instanceId, now))) return null;
    const counts = await store.sweep(slot, cutoffs);
    this.count({ ...counts });
    logger.info({ slot, ...counts, indexTexts: local.texts, indexConversations: local.conversations }, 'retention sweep done');
    return { ...counts, indexTexts: local.texts, indexConversations: local.conversations };
  }

  private count(counts: Record<string, number>): void {
    for (const [kind, n] of Object.entries(counts)) if (n > 0) this.deleted.inc({ kind }, n);
  }
}
