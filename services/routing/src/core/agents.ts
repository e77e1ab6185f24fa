// The agents routing knows: their records, the indexes that find candidates quickly, their
// capacity, and the AgentState published on every change.
import { CHANNEL_ENUM, type ChannelName } from '#libs/contact';
import { type AgentState, Presence, Tier } from '#libs/proto';
import type { Outbox } from './outbox';
import { CHANNELS, type RoutingPolicy } from './policy';
import { type ReadyBucket, ReadyIndex } from './ready';
import { StaffingCounts } from './staffing';
import { queueName, type WaitingQueue } from './waiting';
import { type AgentProfile, type AgentRecord, type Clock, type ConversationRecord, RoutingError } from './records';

export interface ServedQueue {
  channel: ChannelName;
  queue: string;
  /** The queue itself, once it exists. */
  found?: WaitingQueue;
}

export function isSkillName(skill: string): boolean {
  return /^[a-z0-9_-]{1,64}$/.test(skill);
}

export class AgentRoster {
  readonly records = new Map<string, AgentRecord>();
  /** Staffed agents per tier/skill. */
  private readonly staffing = new StaffingCounts();
  /** Queue name → its tier/skill key. */
  private readonly staffingKeys = new Map<string, string>();
  /** Available agents with room, by tier/skill and tier/*: where candidates for a conversation are found. */
  private readonly ready = new ReadyIndex();
  /** What is worked out once per record: skills and tier never change on one (re-registering makes a new one). */
  private readonly derived = new WeakMap<AgentRecord, Derived>();
  private readonly staffingCache = new Map<string, number>();

  constructor(
    private readonly policy: RoutingPolicy,
    private readonly clock: Clock,
    private readonly out: Outbox,
  ) {}

  get(id: string): AgentRecord {
    const a = this.records.get(id);
    if (!a) throw new RoutingError('NOT_FOUND', `agent ${id} is not registered`);
    return a;
  }

  /** A new record for the profile; load, presence and history carry over from an existing one. */
  register(profile: AgentProfile): AgentRecord {
    validateProfile(profile);
    const now = this.clock.now();
    const existing = this.records.get(profile.id);
    const capacity = { ...this.policy.capacityDefaults };
    for (const c of CHANNELS) {
      const v = profile.capacity?.[c];
      if (v !== undefined) {
        if (!Number.isInteger(v) || v < 0 || v > 100) throw new RoutingError('INVALID_ARGUMENT', `capacity for ${c} must be 0-100`);
        capacity[c] = v;
      }
    }
    const totalCapacity = profile.totalCapacity && profile.totalCapacity > 0 ? Math.min(profile.totalCapacity, 100) : this.policy.totalCapacityDefault;
    if (existing) this.unindex(existing);
    const agent: AgentRecord = {
      id: profile.id,
      name: profile.name,
      tier: profile.tier,
      skills: { ...profile.skills },
      languages: profile.languages.map((l) => l.toLowerCase()),
      capacity,
      totalCapacity,
      presence: existing?.presence ?? Presence.PRESENCE_OFFLINE,
      // A record kept from before a channel existed has no load on it.
      load: { voice: 0, chat: 0, sms: 0, email: 0, api: 0, whatsapp: 0, ...existing?.load },
      active: existing?.active ?? [],
      idleSince: existing?.idleSince ?? now,
      missedOffers: existing?.missedOffers ?? 0,
      wrapUpUntil: existing?.wrapUpUntil ?? 0,
      updatedAt: now,
    };
    this.records.set(agent.id, agent);
    this.index(agent);
    return agent;
  }

  /** Adds the record to the indexes (a restored or newly registered one). */
  index(agent: AgentRecord): void {
    this.staffing.track(agent);
    this.staffingCache.clear();
    this.updateReady(agent);
  }

  private unindex(agent: AgentRecord): void {
    this.ready.remove(agent.id);
    this.staffing.untrack(agent.id);
    this.staffingCache.clear();
  }

  /** Every change of an agent's presence goes through here: the staffing counts follow it. */
  setPresenceOf(agent: AgentRecord, presence: Presence): void {
    agent.presence = presence;
    this.staffing.presenceChanged(agent);
  }

  /**
   * Presence moved in or out of the staffed ones: wait estimates read the counts afresh. Until
   * then they keep reading the counts from before (the estimates of offers requeued while an
   * agent leaves are made with them, see presence.ts).
   */
  staffingChanged(): void {
    this.staffingCache.clear();
  }

  /** The record changed: indexes follow, it is to be written, and its state is published. */
  changed(agent: AgentRecord): void {
    agent.updatedAt = this.clock.now();
    this.ready.settle(agent, readyLoad(agent));
    this.out.agentChanged(agent.id, this.state(agent));
  }

  /** Moves the agent to the bucket matching their presence and load (to the end: newest). */
  updateReady(agent: AgentRecord): void {
    this.ready.place(agent, readyLoad(agent));
  }

  /** The queues the agent serves: one per skill and channel, in the order of their skills, then of CHANNELS. */
  servedQueues(agent: AgentRecord): ServedQueue[] {
    return this.derivedOf(agent).queues;
  }

  private derivedOf(agent: AgentRecord): Derived {
    let d = this.derived.get(agent);
    if (!d) {
      const skills = Object.keys(agent.skills);
      d = {
        queues: skills.flatMap((skill) => CHANNELS.map((channel) => ({ channel, queue: queueName(agent.tier, skill, channel) }))),
        skills: skills.map((name) => ({ name, level: agent.skills[name] ?? 0 })),
        languages: agent.languages ? [...agent.languages] : [],
      };
      this.derived.set(agent, d);
    }
    return d;
  }

  /** Ready agents with the skill (`*`: the whole tier), least loaded bucket first, each longest idle first. */
  readyBuckets(tier: Tier, skill: string): readonly (ReadyBucket | undefined)[] {
    return this.ready.buckets(tier, skill);
  }

  /** Agents logged in who serve this queue (any of its tier's agents with its skill). Cached by queue. */
  staffed(queue: string): number {
    const cached = this.staffingCache.get(queue);
    if (cached !== undefined) return cached;
    let key = this.staffingKeys.get(queue);
    if (key === undefined) {
      const [tierPart, skill] = queue.split('/') as [string, string];
      this.staffingKeys.set(queue, (key = `${tierPart === 'tier2' ? Tier.TIER_EXPERT : Tier.TIER_FRONT_OFFICE}/${skill}`));
    }
    const n = this.staffing.count(key);
    this.staffingCache.set(queue, n);
    return n;
  }

  /**
   * The agent as published (built as AgentState.fromPartial would, written out: it runs on every
   * change of load). The skills and languages, fixed for the record, are built once and shared
   * by every state published of it, as are the dates of one instant (see Outbox.dateAt).
   */
  state(a: AgentRecord): AgentState {
    const d = this.derivedOf(a);
    const updatedAt = this.out.dateAt(a.updatedAt);
    return {
      agentId: a.id,
      name: a.name ?? '',
      tier: a.tier ?? 0,
      skills: d.skills,
      languages: d.languages,
      presence: a.presence ?? 0,
      load: loadOf(a, d),
      totalCapacity: a.totalCapacity ?? 0,
      updatedAt,
      wrapUpUntil: a.wrapUpUntil ? new Date(a.wrapUpUntil) : undefined,
      idleSince: a.idleSince === a.updatedAt ? updatedAt : new Date(a.idleSince),
    };
  }

  /** Available, with room on the channel and in total. */
  hasRoom(agent: AgentRecord, channel: ChannelName): boolean {
    return (
      agent.presence === Presence.PRESENCE_AVAILABLE && (agent.load[channel] ?? 0) < (agent.capacity[channel] ?? 0) && agent.active.length < agent.totalCapacity
    );
  }

  /** Available and below their total capacity: they may be offered more. */
  canPull(agent: AgentRecord): boolean {
    return agent.presence === Presence.PRESENCE_AVAILABLE && agent.active.length < agent.totalCapacity;
  }

  /** Has room, has not turned this conversation down, and could be dialled into it. */
  canTake(agent: AgentRecord, conv: ConversationRecord): boolean {
    return this.hasRoom(agent, conv.channel) && !conv.declinedBy.includes(agent.id) && !conv.unreachableAgents?.includes(agent.id);
  }

  /** Counts the conversation in the agent's load. */
  addLoad(agent: AgentRecord, conv: ConversationRecord): void {
    agent.active.push(conv.id);
    agent.load[conv.channel] = (agent.load[conv.channel] ?? 0) + 1;
  }

  /** Takes the conversation off the agent's load; the agent is idle from now. */
  release(agent: AgentRecord, conv: ConversationRecord): void {
    const i = agent.active.indexOf(conv.id);
    if (i >= 0) {
      agent.active.splice(i, 1);
      agent.load[conv.channel] = Math.max(0, (agent.load[conv.channel] ?? 0) - 1);
    }
    agent.idleSince = this.clock.now();
    this.changed(agent);
  }
}

interface Derived {
  queues: ServedQueue[];
  skills: AgentState['skills'];
  languages: string[];
  /** The load last published: the next state shares it when no count changed (an accept, a wrap-up). */
  load?: AgentState['load'];
}

type ChannelLoad = AgentState['load'][number];

/** Counts up to this are shared entries (capacities are at most 100). */
const MAX_SHARED = 100;
/** Every channel load published is one of few values: each is made once and shared by the states that publish it. */
const sharedLoads: (ChannelLoad | undefined)[] = [];

function channelLoad(channel: number, active: number, capacity: number): ChannelLoad {
  if (!(active >= 0 && active <= MAX_SHARED && capacity >= 0 && capacity <= MAX_SHARED && Number.isInteger(active) && Number.isInteger(capacity)))
    return { channel, active, capacity };
  const i = (channel * (MAX_SHARED + 1) + active) * (MAX_SHARED + 1) + capacity;
  return (sharedLoads[i] ??= { channel, active, capacity });
}

/** The load per channel, in the order of CHANNELS. */
function loadOf(a: AgentRecord, d: Derived): AgentState['load'] {
  const previous = d.load;
  let same = previous !== undefined;
  const load: AgentState['load'] = [];
  for (let i = 0; i < CHANNELS.length; i++) {
    const c = CHANNELS[i]!;
    const entry = channelLoad(CHANNEL_ENUM[c], a.load[c] ?? 0, a.capacity[c] ?? 0);
    if (same && previous![i] !== entry) same = false;
    load.push(entry);
  }
  if (same) return previous!;
  d.load = load;
  return load;
}

/** The ready bucket the agent belongs in: their number of conversations, -1 when not taking any. */
function readyLoad(agent: AgentRecord): number {
  return agent.presence === Presence.PRESENCE_AVAILABLE && agent.active.length < agent.totalCapacity ? agent.active.length : -1;
}

function validateProfile(profile: AgentProfile): void {
  if (!profile.id || profile.id.length > 128) throw new RoutingError('INVALID_ARGUMENT', 'agent id must be 1-128 characters');
  if (profile.tier !== Tier.TIER_FRONT_OFFICE && profile.tier !== Tier.TIER_EXPERT)
    throw new RoutingError('INVALID_ARGUMENT', 'tier must be front office or expert');
  for (const [skill, level] of Object.entries(profile.skills)) {
    if (!isSkillName(skill)) throw new RoutingError('INVALID_ARGUMENT', `skill "${skill.slice(0, 64)}" must be 1-64 lower-case letters, digits, _ or -`);
    if (!Number.isInteger(level) || level < 1 || level > 5) throw new RoutingError('INVALID_ARGUMENT', `skill ${skill}: level must be 1 to 5`);
  }
}
