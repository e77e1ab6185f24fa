// Routing's state as records of its changelog topic, and the copy of it every instance keeps.
// Each agent, open conversation and customer memory is one record under its own key (the topic
// is compacted, so the latest value of each key is the state); a conversation that ends is
// deleted with a tombstone. The calendars a supervisor set are one record, `settings/calendars`. The `owner` record marks a take-over: once an instance reads its
// own marker back, it has read everything the instances before it committed.
import type { AgentRecord, CalendarsRecord, ConversationRecord, CustomerMemory, RoutingEngine, StateChanges } from './core/engine';

export type StateKind = 'agent' | 'conversation' | 'customer' | 'settings';

const KINDS: readonly StateKind[] = ['agent', 'conversation', 'customer', 'settings'];
export const OWNER_KEY = 'owner';

/** The changelog topic of a routing consumer group: the default group's is cc.routing.state.v1. */
export function changelogTopic(group: string): string {
  return `cc.${group}.state.v1`;
}

/** One changelog record: a value of null deletes the key. */
export interface ChangelogRecord {
  key: string;
  value: string | null;
}

/** Who took routing over; read back to know the copy is complete. */
export interface OwnerMarker {
  instance: string;
  activation: number;
}

class ChangelogError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ChangelogError';
  }
}

export function ownerRecord(marker: OwnerMarker): ChangelogRecord {
  return { key: OWNER_KEY, value: JSON.stringify(marker) };
}

/** The records that write what changed; ended conversations are deleted. */
export function changeRecords(engine: RoutingEngine, changes: StateChanges): ChangelogRecord[] {
  const records: ChangelogRecord[] = [];
  for (const id of changes.agents) {
    const agent = engine.agents.get(id);
    records.push({ key: `agent/${id}`, value: agent ? JSON.stringify(agent) : null });
  }
  for (const id of changes.conversations) {
    const conv = engine.conversations.get(id);
    // A low score to follow up keeps its resolved conversation, so a restart still lists it.
    const ended = !conv || ((conv.state === 'resolved' || conv.state === 'abandoned') && !conv.lowScore);
    records.push({ key: `conversation/${id}`, value: ended ? null : JSON.stringify(conv) });
  }
  for (const id of changes.customers) {
    const memory = engine.customers.get(id);
    records.push({ key: `customer/${id}`, value: memory ? JSON.stringify(memory) : null });
  }
  const calendars = changes.calendars ? engine.calendarsRecord() : undefined;
  if (calendars) records.push({ key: 'settings/calendars', value: JSON.stringify(calendars) });
  return records;
}

export interface StateSnapshot {
  agents: AgentRecord[];
  conversations: ConversationRecord[];
  customers: CustomerMemory[];
  calendars?: CalendarsRecord;
}

/**
 * The latest value of every key, as read from the changelog. Values stay JSON text until a
 * snapshot is taken, so the copy is cheap to keep and never shares objects with an engine.
 */
export class StateMirror {
  private readonly values = new Map<string, string>();
  private owner: OwnerMarker | undefined;

  /** Applies one record; false when its key is not one routing writes (it is left out). */
  apply(key: string, value: string | null): boolean {
    if (key === OWNER_KEY) {
      this.owner = value ? parseOwner(value) : undefined;
      return true;
    }
    if (!KINDS.includes(key.slice(0, key.indexOf('/')) as StateKind)) return false;
    if (value === null) this.values.delete(key);
    else this.values.set(key, value);
    return true;
  }

  get lastOwner(): OwnerMarker | undefined {
    return this.owner;
  }

  get size(): number {
    return this.values.size;
  }

  /** Everything needed to rebuild the engine; throws ChangelogError on a value that is not a record. */
  snapshot(): StateSnapshot {
    const snapshot: StateSnapshot = { agents: [], conversations: [], customers: [] };
    for (const [key, text] of this.values) {
      const kind = key.slice(0, key.indexOf('/')) as StateKind;
      const value = parseRecord(key, text);
      if (kind === 'agent') snapshot.agents.push(value as AgentRecord);
      else if (kind === 'conversation') snapshot.conversations.push(value as ConversationRecord);
      else if (kind === 'customer') snapshot.customers.push(value as CustomerMemory);
      else if (key === 'settings/calendars') snapshot.calendars = value as CalendarsRecord;
    }
    return snapshot;
  }
}

function parseRecord(key: string, text: string): object {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new ChangelogError(`changelog record ${key} is not JSON`);
  }
  const id = key.slice(key.indexOf('/') + 1);
  const own = value && typeof value === 'object' ? ((value as { id?: unknown; key?: unknown }).id ?? (value as { key?: unknown }).key) : undefined;
  if (own !== id) throw new ChangelogError(`changelog record ${key} does not hold the record it is keyed by`);
  return value as object;
}

function parseOwner(text: string): OwnerMarker | undefined {
  try {
    const v = JSON.parse(text) as Partial<OwnerMarker>;
    return typeof v.instance === 'string' && typeof v.activation === 'number' ? { instance: v.instance, activation: v.activation } : undefined;
  } catch {
    return undefined;
  }
}
