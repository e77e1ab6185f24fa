// Agents ready for more work, by key (tier/skill, and tier/* for the whole tier), bucketed by
// how many conversations they hold. Each bucket keeps the order in which agents entered it,
// which is the order of their last change of load: the first is the longest idle at that load.
//
// Buckets are doubly linked lists with one node per agent and key, so that a change of load
// (every offer, every release) moves an agent in constant time without hashing, and a scan
// reads the agents' records straight from the nodes.
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
export class ReadyList {
  readonly buckets: (ReadyBucket | undefined)[] = [];

  bucket(load: number): ReadyBucket {
    return (this.buckets[load] ??= new ReadyBucket());
  }
}

interface Entry {
  /** The keys the nodes were made for (one array per agent record). */
  keys: readonly string[];
  nodes: ReadyNode[];
  /** The bucket the agent is in, -1 when in none. */
  load: number;
}

const NO_BUCKETS: readonly (ReadyBucket | undefined)[] = [];

export class ReadyIndex {
  private readonly lists = new Map<string, ReadyList>();
  private readonly entries = new Map<string, Entry>();

  /** The agent's bucket, undefined when not ready. */
  loadOf(agentId: string): number | undefined {
    const load = this.entries.get(agentId)?.load;
    return load === undefined || load < 0 ? undefined : load;
  }

  buckets(key: string): readonly (ReadyBucket | undefined)[] {
    return this.lists.get(key)?.buckets ?? NO_BUCKETS;
  }

  /** Moves the agent to the end of bucket `load` under each key (-1: out of every bucket). */
  move(agent: AgentRecord, keys: readonly string[], load: number): void {
    let entry = this.entries.get(agent.id);
    if (entry && (entry.keys !== keys || entry.nodes[0]?.agent !== agent)) {
      this.unlink(entry);
      entry = undefined;
    }
    if (!entry) {
      if (load < 0) return;
      entry = { keys, nodes: keys.map((key) => this.node(agent, key)), load: -1 };
      this.entries.set(agent.id, entry);
    }
    if (load < 0) {
      this.unlink(entry);
      return;
    }
    for (const node of entry.nodes) {
      node.bucket?.remove(node);
      node.list.bucket(load).append(node);
    }
    entry.load = load;
  }

  /** Forgets the agent (a new record replaces theirs). */
  remove(agentId: string): void {
    const entry = this.entries.get(agentId);
    if (!entry) return;
    this.unlink(entry);
    this.entries.delete(agentId);
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
