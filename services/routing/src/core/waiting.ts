// Conversations waiting for an agent: one queue per tier, skill and channel, plus two indexes
// for what a scan of an agent's own queues would miss: conversations targeting one named
// agent (account manager, last agent), and those whose list reached the whole tier.
import { Tier } from '#libs/proto';
import type { ChannelName } from '#libs/contact';
import { ConversationQueue, type QueueEntry } from './queue';
import type { ConversationRecord } from './records';
import { reachesQueue } from './targets';

/**
 * Skill → its queue names, by tier and channel. A queue's name is the key of every per-queue
 * look-up a decision makes (queue, statistics, staffing, calendar): made once, the same string
 * each time, its hash is worked out once. Bounded as the queues are: one per skill ever queued.
 */
const NAMES = new Map<string, Map<string, string>>();

export function queueName(tier: Tier, skill: string, channel: ChannelName): string {
  let names = NAMES.get(skill);
  if (!names) NAMES.set(skill, (names = new Map()));
  const key = tier === Tier.TIER_EXPERT ? channel : `1${channel}`;
  let name = names.get(key);
  if (name === undefined) names.set(key, (name = `tier${tier === Tier.TIER_EXPERT ? 2 : 1}/${skill}/${channel}`));
  return name;
}

/** A queue entry with what a scan of the queue needs, so that it need not look the conversation up. */
export interface WaitingEntry extends QueueEntry {
  conv: ConversationRecord;
  /** The target list reached the queue's agents; before, only the agents it names may take it. */
  open: boolean;
}

/** A queue that counts its open entries: one with none has nothing for agents it does not name. */
export class WaitingQueue extends ConversationQueue<WaitingEntry> {
  open = 0;
  readonly tier = this.name.startsWith('tier2/') ? Tier.TIER_EXPERT : Tier.TIER_FRONT_OFFICE;
}

export class Waiting {
  readonly queues = new Map<string, WaitingQueue>();
  private readonly byId = new Map<string, WaitingEntry>();
  /** Agent id → conversations that name the agent as account manager or last agent. */
  private readonly targeting = new Map<string, Set<string>>();
  private readonly widened = new Map<Tier, Set<string>>();
  /** Entries in all queues. */
  private entries = 0;
  /** Open entries in all queues of each tier. */
  private readonly openByTier = new Map<Tier, number>();

  /** True when no conversation waits in any queue (nothing to pull). */
  get empty(): boolean {
    return this.entries === 0;
  }

  /** The queue, created on first use. */
  queue(name: string): WaitingQueue {
    let q = this.queues.get(name);
    if (!q) this.queues.set(name, (q = new WaitingQueue(name)));
    return q;
  }

  /** 1-based position in its queue, 0 when not waiting. */
  position(conv: ConversationRecord): number {
    return this.queues.get(conv.queue)?.position(conv.id) ?? 0;
  }

  /** Puts the conversation (back) in its queue at its key, and in the index of the agents it names. */
  insert(conv: ConversationRecord): void {
    const entry: WaitingEntry = { id: conv.id, key: conv.queueKey, conv, open: reachesQueue(conv) };
    const queue = this.queue(conv.queue);
    queue.insert(entry);
    if (entry.open) this.countOpen(queue, 1);
    this.byId.set(conv.id, entry);
    this.entries++;
    this.track(conv, true);
  }

  /** The conversation's list reached the whole tier: any agent of it may pull it. */
  widen(conv: ConversationRecord): void {
    let set = this.widened.get(conv.tier);
    if (!set) this.widened.set(conv.tier, (set = new Set()));
    set.add(conv.id);
  }

  /** Out of every queue and index. Its pending step timer goes stale. */
  leave(conv: ConversationRecord): void {
    const queue = this.queues.get(conv.queue);
    if (queue?.remove(conv.id)) {
      this.entries--;
      if (this.byId.get(conv.id)?.open) this.countOpen(queue, -1);
    }
    this.byId.delete(conv.id);
    this.track(conv, false);
    this.widened.get(conv.tier)?.delete(conv.id);
    conv.stepSeq++;
  }

  /** The conversation moved on along its target list. */
  stepChanged(conv: ConversationRecord): void {
    const entry = this.byId.get(conv.id);
    if (!entry || entry.open || !reachesQueue(conv)) return;
    entry.open = true;
    this.countOpen(this.queues.get(conv.queue)!, 1);
  }

  /** Whether some conversation waiting in the tier may be taken by agents it does not name. */
  hasOpenIn(tier: Tier): boolean {
    return (this.openByTier.get(tier) ?? 0) > 0;
  }

  /** Whether some waiting conversation names this agent. */
  names(agentId: string): boolean {
    return (this.targeting.get(agentId)?.size ?? 0) > 0;
  }

  /** Conversations that name this agent. */
  targetingAgent(agentId: string): Iterable<string> {
    return this.targeting.get(agentId) ?? [];
  }

  /** Conversations any agent of the tier may take. */
  widenedIn(tier: Tier): Iterable<string> {
    return this.widened.get(tier) ?? [];
  }

  private countOpen(queue: WaitingQueue, n: number): void {
    queue.open += n;
    this.openByTier.set(queue.tier, (this.openByTier.get(queue.tier) ?? 0) + n);
  }

  private track(conv: ConversationRecord, on: boolean): void {
    if (conv.accountManagerId) this.target(conv.accountManagerId, conv.id, on);
    if (conv.lastAgentId) this.target(conv.lastAgentId, conv.id, on);
  }

  private target(agentId: string, conversationId: string, on: boolean): void {
    let set = this.targeting.get(agentId);
    if (on) {
      if (!set) this.targeting.set(agentId, (set = new Set()));
      set.add(conversationId);
    } else set?.delete(conversationId);
  }
}
