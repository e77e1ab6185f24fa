// Agents ready for more work, by key (tier/skill, and tier/* for the whole tier), bucketed by
// how many conversations they hold. Each bucket keeps the order in which agents entered it,
// which is the order of their last change of load: the first is the longest idle at that load.
//
// Buckets are doubly linked lists with one node per agent and key, so that a change of load
// (every offer, every release) moves an agent in constant time without hashing, and a scan
// reads the agents' records straight from the nodes.
import type { Tier } from '#libs/proto';
import type { AgentRecord } from './records';

export interface ReadyNode {
  readonly agent: AgentRecord;
  readonly list: ReadyList;
  bucket: ReadyBucket | undefined;
  prev: ReadyNode | undefined;
  next: ReadyNode | undefined;
}

export class ReadyBucket {
  head: ReadyNode | undefined;
  private tail: ReadyNode | undefined;
  size = 0;

  append(node: ReadyNode): void {
    node.bucket = this;
    node.prev = this.tail;
    node.next = undefined;
    if (this.tail) this.tail.next = node;
    else this.head = node;
    this.tail = node;
    this.size++;
  }

  remove(node: ReadyNode): void {
    if (node.prev) node.prev.next = node.next;
    else this.head = node.next;
    if (node.next) node.next.prev = node.prev;
    else this.tail = node.prev;
    node.bucket = node.prev = node.next = undefined;
    this.size--;
  }
}

/** One key's buckets, indexed by load; a bucket exists once someone entered it. */
class ReadyList {
  readonly buckets: (ReadyBucket | undefined)[] = [];

  bucket(load: number): ReadyBucket {
    return (this.buckets[load] ??= new ReadyBucket());
  }
}

interface Entry {
  /** The record the nodes were made for: a new record of the agent gets new nodes. */
  agent: AgentRecord;
  nodes: ReadyNode[];
  /** The bucket the agent is in, -1 when in none. */
  load: number;
}

const NO_BUCKETS: readonly (ReadyBucket | undefined)[] = [];

export class ReadyIndex {
  private readonly lists = new Map<string, ReadyList>();
  private readonly entries = new Map<string, Entry>();

  /** Ready agents of the tier with the skill (`*`: the whole tier), by load. */
  buckets(tier: Tier, skill: string): readonly (ReadyBucket | undefined)[] {
    return this.lists.get(`${tier}/${skill}`)?.buckets ?? NO_BUCKETS;
  }

  /** Moves the agent to the end of bucket `load` under each of their keys (-1: out of every bucket). */
  place(agent: AgentRecord, load: number): void {
    const entry = this.entryOf(agent, load);
    if (entry) this.moveEntry(entry, load);
  }

  /** As place, but an agent already in bucket `load` keeps their place in it. */
  settle(agent: AgentRecord, load: number): void {
    const entry = this.entryOf(agent, load);
    if (entry && entry.load !== load) this.moveEntry(entry, load);
  }

  /** Forgets the agent (a new record replaces theirs). */
  remove(agentId: string): void {
    const entry = this.entries.get(agentId);
    if (!entry) return;
    this.unlink(entry);
    this.entries.delete(agentId);
  }

  /** The agent's entry, made for this record (undefined when there is none and none is needed). */
  private entryOf(agent: AgentRecord, load: number): Entry | undefined {
    let entry = this.entries.get(agent.id);
    if (entry && entry.agent !== agent) {
      this.unlink(entry);
      entry = undefined;
    }
    if (!entry && load >= 0) {
      // Skills and tier never change on a record (re-registering makes a new one), so the nodes are made once.
      const keys = [...Object.keys(agent.skills).map((skill) => `${agent.tier}/${skill}`), `${agent.tier}/*`];
      entry = { agent, nodes: keys.map((key) => this.node(agent, key)), load: -1 };
      this.entries.set(agent.id, entry);
    }
    return entry;
  }

  private moveEntry(entry: Entry, load: number): void {
    if (load < 0) return this.unlink(entry);
    for (const node of entry.nodes) {
      node.bucket?.remove(node);
      node.list.bucket(load).append(node);
    }
    entry.load = load;
  }

  private unlink(entry: Entry): void {
    for (const node of entry.nodes) node.bucket?.remove(node);
    entry.load = -1;
  }

  private node(agent: AgentRecord, key: string): ReadyNode {
    let list = this.lists.get(key);
    if (!list) this.lists.set(key, (list = new ReadyList()));
    return { agent, list, bucket: undefined, prev: undefined, next: undefined };
  }
}
