// Folds conversation and SLA events into report rows per interval (15 min, hour, day, UTC) and
// per queue, channel and agent. Pure and deterministic: an event id seen before counts nothing,
// and events of one conversation arrive in order (one key, one partition), so reading the topics
// again from the beginning gives the same figures. What spans conversations (a repeat contact
// undoing an earlier first-contact resolution) is matched both ways, whatever arrives first.
// Erased customers (`forget`): what they contributed stays counted, and their conversations'
// later events count as before, but the fold holds them under pseudonyms of its own instead of
// their ids, with no customer id, so a rebuild that knows the erasure first gives the same figures.
import { channelNameOfJson } from '#libs/contact';
import type { ErasureSet } from '#libs/erasure';
import { topics } from '#libs/kafka';
import { CustomerTrails, type Renamed } from './report-customers';
import { KnownErasures, Pseudonyms } from './report-erasures';
import { addCounters, emptyCounters, figuresOf, INTERVALS, type Counters, type ReportDimension, type ReportInterval, type ReportRow } from './report-figures';

/** Routing's reason code of a contact on a subject resolved within its repeat window. */
const REPEAT_CONTACT = 'rule.repeat_contact';
/** Routing's reason codes for the first message of a conversation the company started (core/outreach.ts). */
const COMPANY_STARTED = new Set(['api.started', 'outreach.started', 'notice.sent']);

interface Episode {
  channel: string;
  queue: string;
  /** The customer's id; once the conversation is erased, the customer's pseudonym if they were erased too, else ''. */
  customer: string;
  /** When the conversation's first event occurred: an erasure at or after it covers the conversation. */
  firstEventAt: number;
  /** Held under the conversation's pseudonym, never its id. */
  erased: boolean;
  open: boolean;
  answeredAt: number | null;
  transferred: boolean;
  escalatedByAgent: boolean;
  repeat: boolean;
  lastAgent: string;
  resolvedBy: string;
  surveyed: boolean;
}

/** What an episode starts with: nobody answered, moved or rated it yet. */
const UNTOUCHED = {
  answeredAt: null,
  transferred: false,
  escalatedByAgent: false,
  repeat: false,
  lastAgent: '',
  resolvedBy: '',
  surveyed: false,
} as const satisfies Partial<Episode>;

type Json = Record<string, unknown>;
type Delta = Partial<Counters>;

export interface ReportOptions {
  /** Event ids remembered for duplicates; conversations kept for their state. */
  maxEventIds?: number;
  maxConversations?: number;
}

export class ReportFold {
  /** Counters by `interval/dimension`, then interval start, then queue, channel or agent. */
  private readonly rows = new Map<string, Map<number, Map<string, Counters>>>();
  /** Pseudonyms of the event ids seen: an event id names its conversation. */
  private readonly seen = new Set<string>();
  /** Episodes by conversation id, an erased conversation's by its pseudonym. */
  private readonly conversations = new Map<string, Episode>();
  private readonly trails = new CustomerTrails();
  private readonly names = new Pseudonyms();
  /** The erasures `forget` was given, which the records folded afterwards are checked against. */
  private readonly erasures = new KnownErasures();
  private readonly maxEventIds: number;
  private readonly maxConversations: number;
  folded = 0;

  constructor(options: ReportOptions = {}) {
    this.maxEventIds = options.maxEventIds ?? 2_000_000;
    this.maxConversations = options.maxConversations ?? 500_000;
  }

  /** One record of the topics, as the console describes it; false when it counted nothing new. */
  add(record: { topic: string; id?: string; event?: unknown }): boolean {
    const event = record.event as Json | undefined;
    if (!event) return false;
    const id = typeof event.eventId === 'string' && event.eventId ? event.eventId : record.id;
    if (!id) return false;
    const seenAs = this.names.of('event', id);
    if (this.seen.has(seenAs)) return false;
    const at = Date.parse(String(event.occurredAt ?? ''));
    if (!Number.isFinite(at)) return false;
    this.remember(seenAs);
    if (record.topic === topics.sla.name) this.slaEvent(event, at);
    else if (record.topic === topics.conversationEvents.name) this.conversationEvent(event, at);
    else return false;
    this.folded++;
    return true;
  }

  /**
   * Forgets the ids of the conversations and customers `erased` names: a conversation erased at or
   * after its first event, or whose customer was, is held from now on under its pseudonym with no
   * customer id (the customer's pseudonym where the customer was erased, for first-contact
   * resolution), and every count it made stays. Pure. The fold keeps `erased`, which holds every
   * erasure so far, to hold the records folded afterwards the same way; call again as it grows.
   */
  forget(erased: ErasureSet): { conversations: number; customerTraces: number } {
    this.erasures.use(erased);
    if (!this.erasures.any) return { conversations: 0, customerTraces: 0 };
    // One pass over everything kept: a hash per conversation, one per customer.
    return this.erasures.pass(() => {
      const gone = [...this.conversations].filter(([id, ep]) => !ep.erased && this.isErased(id, ep.customer, ep.firstEventAt));
      let customerTraces = 0;
      for (const [id, ep] of gone) customerTraces += this.anonymise(id, ep).traces;
      // Traces of conversations the fold kept were settled with them; the rest were pushed out by newer ones.
      customerTraces += this.trails.forget((customer, t) =>
        !this.conversations.has(t.conversation) && this.isErased(t.conversation, customer, t.firstEventAt)
          ? this.renamed(customer, t.conversation, t.firstEventAt)
          : undefined,
      );
      return { conversations: gone.length, customerTraces };
    });
  }

  /** Rows of one interval and dimension whose interval starts in [from, to), oldest first. */
  report(interval: ReportInterval, dimension: ReportDimension, from: number, to: number): ReportRow[] {
    const out: ReportRow[] = [];
    for (const [start, values] of this.bucketsIn(interval, dimension, from, to)) {
      const rows = [...values].sort(([a], [b]) => a.localeCompare(b));
      for (const [value, counters] of rows) out.push({ start, dimension, value, figures: figuresOf(counters) });
    }
    return out;
  }

  /** One queue's, channel's or agent's totals over [from, to), and its rows per interval. */
  card(interval: ReportInterval, dimension: ReportDimension, value: string, from: number, to: number) {
    const total = emptyCounters();
    const series: ReportRow[] = [];
    for (const [start, values] of this.bucketsIn(interval, dimension, from, to)) {
      const counters = values.get(value);
      if (!counters) continue;
      addCounters(total, counters);
      series.push({ start, dimension, value, figures: figuresOf(counters) });
    }
    return { dimension, value, from, to, interval, totals: figuresOf(total), series };
  }

  /** The intervals that have rows in [from, to), oldest first: by stepping through them, or by sorting the few there are. */
  private bucketsIn(interval: ReportInterval, dimension: ReportDimension, from: number, to: number): [number, Map<string, Counters>][] {
    const buckets = this.rows.get(`${interval}/${dimension}`);
    if (!buckets) return [];
    const step = INTERVALS[interval];
    const first = Math.ceil(from / step) * step;
    const out: [number, Map<string, Counters>][] = [];
    if ((to - first) / step <= buckets.size) {
      for (let t = first; t < to; t += step) {
        const values = buckets.get(t);
        if (values) out.push([t, values]);
      }
      return out;
    }
    for (const entry of buckets) if (entry[0] >= from && entry[0] < to) out.push(entry);
    return out.sort((a, b) => a[0] - b[0]);
  }

  private slaEvent(event: Json, at: number): void {
    const kind = event.kind;
    if (kind !== 'SLA_EVENT_KIND_MET' && kind !== 'SLA_EVENT_KIND_BREACH') return;
    const delta: Delta = kind === 'SLA_EVENT_KIND_MET' ? { slaMet: 1 } : { slaBreached: 1 };
    // Service level is the queue's and the channel's: an agent does not choose what waits.
    this.count(at, { queue: str(event.queue), channel: channelOf(event) }, delta);
  }

  private conversationEvent(event: Json, at: number): void {
    const conversationId = str(event.conversationId);
    if (!conversationId) return;
    // `key` is the conversation's id, or its pseudonym once erased: the name its customer's trail knows it by.
    const [key, ep] = this.episodeOf(conversationId, str(event.customerId), event, at);
    const reasonCode = str((event.reason as Json | undefined)?.code);
    if (event.queued) this.queued(key, ep, event.queued as Json, reasonCode, at);
    else if (event.assigned) this.assigned(ep, event.assigned as Json, at);
    else if (event.escalated) this.escalated(key, ep, event.escalated as Json, reasonCode, at);
    else if (event.transferred) this.transferred(ep, event.transferred as Json, at);
    else if (event.resolved) this.resolved(key, ep, event.resolved as Json, at);
    else if (event.abandoned) this.abandoned(ep, event.abandoned as Json, at);
    else if (event.surveyAnswered) this.surveyed(ep, event.surveyAnswered as Json, at);
    else if (event.promise) this.promised(ep, event.promise as Json, at);
    else if (event.replied && COMPANY_STARTED.has(reasonCode)) this.companyStarted(ep, event.replied as Json, reasonCode, at);
  }

  /** The company wrote first: counted per channel and per person (an application is no agent), never as offered. */
  private companyStarted(ep: Episode, replied: Json, reasonCode: string, at: number): void {
    this.count(at, this.dims(ep, reasonCode === 'api.started' ? '' : str(replied.agentId)), { companyStarted: 1 });
  }

  private queued(key: string, ep: Episode, queued: Json, reasonCode: string, at: number): void {
    const queue = str(queued.queue);
    if (!ep.open) this.opened(ep, queue, at);
    ep.queue = queue || ep.queue;
    if (reasonCode === REPEAT_CONTACT) this.repeatContact(key, ep, at);
  }

  /** A new contact (or a reopened conversation): offered to the queue it first waits in. */
  private opened(ep: Episode, queue: string, at: number): void {
    Object.assign(ep, { open: true, queue, ...UNTOUCHED });
    this.count(at, this.dims(ep, ''), { offered: 1 });
  }

  private assigned(ep: Episode, assigned: Json, at: number): void {
    const agent = str(assigned.agentId);
    ep.lastAgent = agent;
    if (!ep.open || ep.answeredAt !== null) return;
    ep.answeredAt = at;
    this.count(at, this.dims(ep, agent), { answered: 1, answerWaitMs: num(assigned.waitedMs) });
  }

  private escalated(key: string, ep: Episode, escalated: Json, reasonCode: string, at: number): void {
    const from = str(escalated.fromAgentId);
    // Escalated at the door (before any Queued): the contact is offered to the experts' queue.
    if (!ep.open) this.opened(ep, str(escalated.queue), at);
    if (!escalated.automatic) ep.escalatedByAgent = true;
    this.count(at, this.dims(ep, from), { escalations: 1 });
    if (escalated.queue) ep.queue = str(escalated.queue);
    if (reasonCode === REPEAT_CONTACT) this.repeatContact(key, ep, at);
  }

  private transferred(ep: Episode, transferred: Json, at: number): void {
    ep.transferred = true;
    this.count(at, this.dims(ep, str(transferred.fromAgentId)), { transfers: 1 });
    if (transferred.toQueue) ep.queue = str(transferred.toQueue);
  }

  private resolved(key: string, ep: Episode, resolved: Json, at: number): void {
    if (!ep.open) return;
    ep.open = false;
    const agent = str(resolved.agentId) || ep.lastAgent;
    ep.resolvedBy = agent;
    const handleMs = ep.answeredAt === null ? 0 : Math.max(0, at - ep.answeredAt);
    const firstContact = !ep.transferred && !ep.escalatedByAgent && !ep.repeat && !this.trails.repeatedAfter(ep.customer, key, at);
    const rows = this.count(at, this.dims(ep, agent), { resolved: 1, handleMs, firstContactResolved: firstContact ? 1 : 0 });
    if (firstContact) this.trails.resolved(ep.customer, { conversation: key, firstEventAt: ep.firstEventAt, at }, rows);
  }

  private abandoned(ep: Episode, abandoned: Json, at: number): void {
    if (!ep.open) return;
    ep.open = false;
    if (ep.answeredAt !== null) return;
    this.count(at, this.dims(ep, ''), { abandoned: 1, abandonWaitMs: num(abandoned.waitedMs) });
  }

  private surveyed(ep: Episode, answer: Json, at: number): void {
    const score = num(answer.score);
    if (ep.surveyed || score < 1 || score > 5) return;
    ep.surveyed = true;
    const dims = this.dims(ep, str(answer.agentId) || ep.resolvedBy);
    if (answer.queue) dims.queue = str(answer.queue);
    this.count(at, dims, { surveys: 1, surveyScoreSum: score });
  }

  /**
   * A promise slipped (broken), or was kept by its date; one marked done after it slipped was
   * already counted broken. Counted for the queue the conversation was in and the promise's owner.
   */
  private promised(ep: Episode, step: Json, at: number): void {
    const progress = step.progress;
    const dueAt = Date.parse(str(step.dueAt));
    let delta: Delta;
    if (progress === 'PROMISE_PROGRESS_SLIPPED') delta = { promisesBroken: 1 };
    else if (progress === 'PROMISE_PROGRESS_KEPT' && at <= dueAt) delta = { promisesKept: 1 };
    else return;
    this.count(at, { queue: str(step.queue) || ep.queue, channel: ep.channel, agent: str(step.ownerAgentId) }, delta);
  }

  /** This conversation is a repeat contact: it is not a first contact, and undoes the customer's recent ones. */
  private repeatContact(key: string, ep: Episode, at: number): void {
    if (ep.repeat) return;
    ep.repeat = true;
    this.trails.repeated(ep.customer, { conversation: key, firstEventAt: ep.firstEventAt, at });
  }

  private dims(ep: Episode, agent: string): Partial<Record<ReportDimension, string>> {
    return { queue: ep.queue, channel: ep.channel, agent };
  }

  /** Adds `delta` to the rows of every interval for each named dimension; returns those rows. */
  private count(at: number, dims: Partial<Record<ReportDimension, string>>, delta: Delta): Counters[] {
    const rows: Counters[] = [];
    for (const [interval, ms] of Object.entries(INTERVALS)) {
      const start = Math.floor(at / ms) * ms;
      for (const [dim, value] of Object.entries(dims)) {
        if (!value) continue;
        const row = this.rowAt(`${interval}/${dim}`, start, value);
        for (const [k, v] of Object.entries(delta) as [keyof Counters, number][]) row[k] += v;
        rows.push(row);
      }
    }
    return rows;
  }

  private rowAt(series: string, start: number, value: string): Counters {
    let buckets = this.rows.get(series);
    if (!buckets) this.rows.set(series, (buckets = new Map()));
    let values = buckets.get(start);
    if (!values) buckets.set(start, (values = new Map()));
    let row = values.get(value);
    if (!row) values.set(value, (row = emptyCounters()));
    return row;
  }

  /** The conversation's episode and the name it is held under; made on its first event, erased already if its erasure is known. */
  private episodeOf(conversationId: string, customerId: string, event: Json, at: number): [string, Episode] {
    const erasing = this.erasures.any;
    let key = conversationId;
    let ep = this.conversations.get(key);
    if (!ep && erasing) {
      key = this.names.of('conversation', conversationId);
      ep = this.conversations.get(key);
    }
    if (!ep) {
      key = conversationId;
      ep = { channel: channelOf(event), queue: '', customer: '', firstEventAt: at, erased: false, open: false, ...UNTOUCHED };
      this.conversations.set(key, ep);
      if (this.conversations.size > this.maxConversations) this.conversations.delete(this.conversations.keys().next().value as string);
    } else if (!customerId || customerId === ep.customer) return [key, ep];
    if (ep.erased) {
      // An erased conversation holds no customer id again: an erased customer's pseudonym at most.
      if (this.erasures.since('customer', customerId, ep.firstEventAt)) ep.customer = this.names.of('customer', customerId);
      return [key, ep];
    }
    if (customerId) ep.customer = customerId;
    if (erasing && this.isErased(conversationId, ep.customer, ep.firstEventAt)) key = this.anonymise(conversationId, ep).conversation;
    return [key, ep];
  }

  /** Moves an erased conversation under its pseudonym, its customer's traces of it with it; answers the names and how many traces moved. */
  private anonymise(conversationId: string, ep: Episode): Renamed & { traces: number } {
    const to = this.renamed(ep.customer, conversationId, ep.firstEventAt);
    const traces = this.trails.rename(ep.customer, conversationId, to);
    Object.assign(ep, { customer: to.customer, erased: true });
    this.conversations.delete(conversationId);
    this.conversations.set(to.conversation, ep);
    return { ...to, traces };
  }

  /** The names an erased conversation's things go under: the customer's pseudonym only if the customer was erased too. */
  private renamed(customerId: string, conversationId: string, firstEventAt: number): Renamed {
    const customer = this.erasures.since('customer', customerId, firstEventAt) ? this.names.of('customer', customerId) : '';
    return { customer, conversation: this.names.of('conversation', conversationId) };
  }

  private isErased(conversationId: string, customerId: string, firstEventAt: number): boolean {
    return this.erasures.since('conversation', conversationId, firstEventAt) || this.erasures.since('customer', customerId, firstEventAt);
  }

  private remember(id: string): void {
    this.seen.add(id);
    if (this.seen.size > this.maxEventIds) this.seen.delete(this.seen.values().next().value as string);
  }
}

const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const num = (v: unknown): number => (Number.isFinite(Number(v)) ? Number(v) : 0);
const channelOf = (event: Json): string => channelNameOfJson(event.channel) ?? '';
