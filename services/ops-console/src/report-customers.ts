// What the reports keep per customer for first-contact resolution across conversations: recent
// first-contact resolutions, taken back when the customer comes back about them within routing's
// repeat window, and repeat contacts, which take back a resolution read after them (its partition
// read later). Keyed by customer id; an erased customer's traces are held under the fold's
// pseudonym of the customer and of each conversation, so a replay still matches them as before
// while nothing here names the customer.
import type { Counters } from './report-figures';

/** Routing's repeat window; a resolution is undone by a repeat at most this long after it. */
const REPEAT_WINDOW_MS = 7 * 86_400_000;
/** A customer's latest traces only: a customer with more within one repeat window is rare. */
const MAX_PER_CUSTOMER = 50;

/** One conversation's resolution or repeat in a customer's trail. */
export interface Trace {
  /** The conversation's id, or its pseudonym once erased. */
  conversation: string;
  /** When the conversation's first event occurred: an erasure at or after it covers the trace. */
  firstEventAt: number;
  at: number;
}

/** A resolution counted as first-contact, kept to take back if the customer comes back about it. */
interface Resolution extends Trace {
  rows: Counters[];
  counted: boolean;
}

/** Where an erased trace goes: under the customer's pseudonym ('' drops it) with the conversation's. */
export interface Renamed {
  customer: string;
  conversation: string;
}

type Rename = (customer: string, trace: Trace) => Renamed | undefined;

export class CustomerTrails {
  private readonly resolutions = new Map<string, Resolution[]>();
  private readonly repeats = new Map<string, Trace[]>();

  /** The customer came back in another conversation within the window after `at` (read before this resolution). */
  repeatedAfter(customer: string, conversation: string, at: number): boolean {
    if (!customer) return false;
    return (this.repeats.get(customer) ?? []).some((r) => r.conversation !== conversation && r.at > at && r.at - at <= REPEAT_WINDOW_MS);
  }

  resolved(customer: string, trace: Trace, rows: Counters[]): void {
    if (customer) push(this.resolutions, customer, { ...trace, rows, counted: true });
  }

  /** A repeat contact: takes back the customer's first-contact resolutions in the window before it. */
  repeated(customer: string, trace: Trace): void {
    if (!customer) return;
    push(this.repeats, customer, trace);
    for (const r of this.resolutions.get(customer) ?? []) {
      if (!r.counted || r.conversation === trace.conversation || trace.at <= r.at || trace.at - r.at > REPEAT_WINDOW_MS) continue;
      r.counted = false;
      for (const row of r.rows) row.firstContactResolved--;
    }
  }

  /** One conversation, just erased: its traces leave the customer's id for the new names. */
  rename(customer: string, conversation: string, to: Renamed): number {
    if (!customer) return 0;
    const rename: Rename = (_, t) => (t.conversation === conversation ? to : undefined);
    return renameIn(this.resolutions, [customer], rename) + renameIn(this.repeats, [customer], rename);
  }

  /** Every trace `rename` answers new names for goes under them; answers how many moved or went. */
  forget(rename: Rename): number {
    return renameIn(this.resolutions, [...this.resolutions.keys()], rename) + renameIn(this.repeats, [...this.repeats.keys()], rename);
  }
}

function renameIn<T extends Trace>(map: Map<string, T[]>, customers: string[], rename: Rename): number {
  let renamed = 0;
  for (const customer of customers) {
    const list = map.get(customer);
    if (!list) continue;
    const kept: T[] = [];
    for (const trace of list) {
      const to = rename(customer, trace);
      if (!to) {
        kept.push(trace);
        continue;
      }
      renamed++;
      trace.conversation = to.conversation;
      if (to.customer) push(map, to.customer, trace);
    }
    if (kept.length) map.set(customer, kept);
    else map.delete(customer);
  }
  return renamed;
}

function push<T>(map: Map<string, T[]>, key: string, item: T): void {
  const list = map.get(key) ?? [];
  list.push(item);
  if (list.length > MAX_PER_CUSTOMER) list.shift();
  map.set(key, list);
}
