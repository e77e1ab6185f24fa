// Agents' reads of their customers during the fault suite: steady GetCustomerContext calls on
// one customer-record instance (the one a fault keeps alive), each for a conversation one of
// the suite's agents accepted and with that agent's own token, as the desk asks beside an offer.
// Each read is recorded with when it started, how long it took and how it ended.
import { credentials, type Metadata, type ServiceError } from '@grpc/grpc-js';
import { bearerMetadata, tokenSource, type SigningKey } from '#libs/auth';
import { CustomerRecordServiceClient, GetCustomerContextRequest, type GetCustomerContextResponse } from '#libs/proto';
import { sleep } from './system';

export interface Read {
  at: number;
  ms: number;
  /** 'OK', or the gRPC status name (DEADLINE_EXCEEDED for a read beyond the budget). */
  outcome: string;
  /** A conversation just accepted, or one accepted at least 20 s before. */
  kind: 'fresh' | 'settled';
}

export interface ReadFigures {
  answered: number;
  missed: number;
  /** Missed reads by outcome, e.g. { DEADLINE_EXCEEDED: 1 }. */
  misses: Record<string, number>;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

const STATUS_NAMES: Record<number, string> = {
  1: 'CANCELLED',
  4: 'DEADLINE_EXCEEDED',
  5: 'NOT_FOUND',
  7: 'PERMISSION_DENIED',
  8: 'RESOURCE_EXHAUSTED',
  13: 'INTERNAL',
  14: 'UNAVAILABLE',
};

export class ContextReads {
  private readonly client: CustomerRecordServiceClient;
  private readonly tokens = new Map<string, () => Promise<string>>();
  private running = false;
  private loop?: Promise<void>;
  readonly reads: Read[] = [];

  constructor(
    address: string,
    private readonly desk: SigningKey,
    /** Conversations accepted by the suite's agents: conversation id → agent id. */
    private readonly accepted: ReadonlyMap<string, string>,
    private readonly options: { perSecond: number; budgetMs: number },
  ) {
    this.client = new CustomerRecordServiceClient(address, credentials.createInsecure());
  }

  start(): void {
    this.running = true;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
    this.client.close();
  }

  /** What the reads of this kind that started in [from, to) came to. */
  figures(from: number, to: number, kind: Read['kind']): ReadFigures {
    const reads = this.reads.filter((r) => r.at >= from && r.at < to && r.kind === kind);
    const answered = reads.filter((r) => r.outcome === 'OK');
    const misses: Record<string, number> = {};
    for (const r of reads) if (r.outcome !== 'OK') misses[r.outcome] = (misses[r.outcome] ?? 0) + 1;
    const ms = reads.map((r) => r.ms).sort((a, b) => a - b);
    const at = (q: number) => ms[Math.min(ms.length - 1, Math.floor(q * ms.length))] ?? 0;
    return { answered: answered.length, missed: reads.length - answered.length, misses, p50Ms: at(0.5), p99Ms: at(0.99), maxMs: ms.at(-1) ?? 0 };
  }

  /**
   * One read every 1/perSecond s, not waiting for the one before, turn about: the newest accepted
   * conversation not read yet (what a desk opens beside a fresh offer, which waits for the
   * projection), and one accepted at least 20 s before (the read path alone).
   */
  private async run(): Promise<void> {
    const read = new Set<string>();
    const acceptedAt = new Map<string, number>();
    for (let turn = 0; this.running; turn++) {
      for (const id of this.accepted.keys()) if (!acceptedAt.has(id)) acceptedAt.set(id, Date.now());
      const settled = [...acceptedAt].filter(([, at]) => at < Date.now() - 20_000).map(([id]) => id);
      const fresh = turn % 2 === 0 ? [...this.accepted.keys()].findLast((id) => !read.has(id)) : undefined;
      const conversationId = fresh ?? settled[Math.floor(Math.random() * settled.length)];
      if (conversationId) {
        read.add(conversationId);
        void this.readOne(conversationId, this.accepted.get(conversationId)!, fresh ? 'fresh' : 'settled');
      }
      await sleep(1000 / this.options.perSecond);
    }
  }

  private async readOne(conversationId: string, agentId: string, kind: Read['kind']): Promise<void> {
    const at = Date.now();
    let outcome = 'OK';
    try {
      const md = bearerMetadata(await this.tokenOf(agentId)());
      const context = await this.context(conversationId, md);
      if (!context.customer?.customerId) outcome = 'NO_CUSTOMER';
    } catch (err) {
      const code = (err as ServiceError).code;
      outcome = code === undefined ? `ERROR ${(err as Error).message}` : (STATUS_NAMES[code] ?? `STATUS ${code}`);
    }
    this.reads.push({ at, ms: Date.now() - at, outcome, kind });
  }

  private context(conversationId: string, md: Metadata): Promise<GetCustomerContextResponse> {
    return new Promise((resolve, reject) => {
      this.client.getCustomerContext(
        GetCustomerContextRequest.fromPartial({ conversationId, recentConversations: 5 }),
        md,
        { deadline: new Date(Date.now() + this.options.budgetMs) },
        (err, res) => (err ? reject(err) : resolve(res!)),
      );
    });
  }

  private tokenOf(agentId: string): () => Promise<string> {
    let source = this.tokens.get(agentId);
    if (!source) this.tokens.set(agentId, (source = tokenSource(this.desk, { id: agentId, role: 'agent' }, 'customer-record')));
    return source;
  }
}
