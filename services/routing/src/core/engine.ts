// The routing core: agents, conversations, queues, offers, escalation, SLA timers and wait
// estimates. No I/O: time comes from an injected clock, and every decision returns the events
// it produced (each with its Reason) for the adapters to publish and persist.
import {
  AgentState,
  ConversationEvent,
  type ContactReceived,
  ContactKind,
  type Identity,
  OutboundKind,
  OutboundMessage,
  Presence,
  type QueueStats,
  type Reason,
  RiskLevel,
  SlaEvent,
  SlaEventKind,
  Tier,
  type WatchAssignmentsResponse,
} from '../../../../libs/proto';
import { Classifier, type Classification } from './classify';
import { serversNeeded } from './erlang';
import { contactProblem } from './contact-check';
import { CHANNEL_ENUM, CHANNELS, channelName, type ChannelName, type RoutingPolicy } from './policy';
import { ConversationQueue } from './queue';
import { TimerHeap, type Timer } from './timers';

export interface Clock {
  now(): number;
}

export type Effect =
  | { type: 'conversation'; event: ConversationEvent }
  | { type: 'agent_state'; state: AgentState }
  | { type: 'sla'; event: SlaEvent }
  | { type: 'outbound'; message: OutboundMessage }
  | { type: 'notify'; agentId: string; update: WatchAssignmentsResponse };

/** Ids of the records that changed, by kind. */
export interface StateChanges {
  conversations: string[];
  agents: string[];
  customers: string[];
}

export class RoutingError extends Error {
  constructor(
    readonly kind: 'not_found' | 'invalid' | 'precondition' | 'permission',
    message: string,
  ) {
    super(message);
    this.name = 'RoutingError';
  }
}

export interface AgentProfile {
  id: string;
  name: string;
  tier: Tier;
  skills: Record<string, number>;
  languages: string[];
  capacity?: Partial<Record<ChannelName, number>>;
  totalCapacity?: number;
}

/** An agent as routing keeps it (plain data: snapshotted as is). */
export interface AgentRecord {
  id: string;
  name: string;
  tier: Tier;
  skills: Record<string, number>;
  languages: string[];
  capacity: Record<ChannelName, number>;
  totalCapacity: number;
  presence: Presence;
  load: Record<ChannelName, number>;
  /** Conversations offered to or assigned to the agent. */
  active: string[];
  idleSince: number;
  missedOffers: number;
  wrapUpUntil: number;
  updatedAt: number;
}

export type ConversationState = 'new' | 'queued' | 'offered' | 'assigned' | 'resolved' | 'abandoned';

/** What customer-record knows of the customer (empty without it). */
export interface CustomerInfo {
  customerId?: string;
  name?: string;
  /** regular, vip, institutional */
  flags?: string[];
  accountManagerId?: string;
}

export interface ConversationRecord {
  id: string;
  channel: ChannelName;
  customerKey: string;
  customerId: string;
  customerName: string;
  flags: string[];
  accountManagerId: string;
  recipient?: Identity;
  reference: string;
  subject: string;
  language: string;
  channelMetadata: Record<string, string>;
  state: ConversationState;
  escalated: boolean;
  tier: Tier;
  skill: string;
  queue: string;
  classification: Classification;
  points: number;
  queueKey: number;
  createdAt: number;
  enqueuedAt: number;
  steps: number[];
  stepIndex: number;
  stepSince: number;
  stepSeq: number;
  offerSeq: number;
  agentId: string;
  offerExpiresAt: number;
  assignedAt: number;
  declinedBy: string[];
  escalationNote: string;
  lastAgentId: string;
  tier1AgentId: string;
  estimateMs: number;
  slaState: 'running' | 'warned' | 'breached' | 'stopped';
  seq: number;
  contactIds: string[];
}

/** What a customer left behind: for "last agent" targeting and repeat-contact detection. */
export interface CustomerMemory {
  key: string;
  lastAgentId: string;
  lastAgentAt: number;
  resolved: { subjectKey: string; at: number; conversationId: string }[];
}

interface QueueMetrics {
  handleMs: number[];
  sla: boolean[];
  arrivals: number[];
  ewtErrors: number[];
  actualWaits: number[];
}

const ACTIVE_PRESENCE = new Set([Presence.PRESENCE_AVAILABLE, Presence.PRESENCE_BUSY, Presence.PRESENCE_WRAP_UP]);
const RING = 200;

function push<T>(ring: T[], value: T, max = RING): void {
  ring.push(value);
  if (ring.length > max) ring.shift();
}

const mean = (a: number[]) => (a.length === 0 ? 0 : a.reduce((s, v) => s + v, 0) / a.length);

export function queueName(tier: Tier, skill: string, channel: ChannelName): string {
  return `tier${tier === Tier.TIER_EXPERT ? 2 : 1}/${skill}/${channel}`;
}

function subjectKey(subject: string, skill: string): string {
  const s = subject
    .toLowerCase()
    .replace(/^\s*((re|fwd?|aw|tr|sv)\s*:\s*)+/i, '')
    .replace(/\s+/g, ' ')
    .trim();
  return s || `skill:${skill}`;
}

const MIN_RATE_WINDOW_MS = 5 * 60_000;

export class RoutingEngine {
  readonly agents = new Map<string, AgentRecord>();
  readonly conversations = new Map<string, ConversationRecord>();
  readonly customers = new Map<string, CustomerMemory>();
  private readonly queues = new Map<string, ConversationQueue>();
  private readonly metrics = new Map<string, QueueMetrics>();
  /** tier/skill → agents with that skill. */
  private readonly bySkill = new Map<string, Set<string>>();
  private readonly byTier = new Map<Tier, Set<string>>();
  /**
   * Available agents by tier/skill (and tier/* for the whole tier), bucketed by how many
   * conversations they hold; each bucket keeps the order in which agents entered it, which is
   * the order of their last change of load: the first is the longest idle at that load.
   */
  private readonly ready = new Map<string, Set<string>[]>();
  private readonly readyBucket = new Map<string, number>();
  private readonly readyKeyCache = new WeakMap<AgentRecord, string[]>();
  /** Conversations waiting for one named agent (account manager, last agent). */
  private readonly targeting = new Map<string, Set<string>>();
  /** Conversations whose target list reached the whole tier. */
  private readonly widened = new Map<Tier, Set<string>>();
  private readonly timers = new TimerHeap();
  private readonly classifier: Classifier;
  private out: Effect[] = [];
  private readonly dirtyConversations = new Set<string>();
  private readonly dirtyAgents = new Set<string>();
  private readonly dirtyCustomers = new Set<string>();
  private staffingCache = new Map<string, number>();

  constructor(
    readonly policy: RoutingPolicy,
    private readonly clock: Clock,
  ) {
    this.classifier = new Classifier(policy);
    this.startedAt = clock.now();
  }

  private readonly startedAt: number;

  // ---------------------------------------------------------------- agents

  registerAgent(profile: AgentProfile): Effect[] {
    if (!profile.id || profile.id.length > 128) throw new RoutingError('invalid', 'agent id must be 1-128 characters');
    if (profile.tier !== Tier.TIER_FRONT_OFFICE && profile.tier !== Tier.TIER_EXPERT) throw new RoutingError('invalid', 'tier must be front office or expert');
    for (const [skill, level] of Object.entries(profile.skills)) {
      if (!/^[a-z0-9_-]{1,64}$/.test(skill)) throw new RoutingError('invalid', `skill "${skill.slice(0, 64)}" must be 1-64 lower-case letters, digits, _ or -`);
      if (!Number.isInteger(level) || level < 1 || level > 5) throw new RoutingError('invalid', `skill ${skill}: level must be 1 to 5`);
    }
    const now = this.clock.now();
    const existing = this.agents.get(profile.id);
    const capacity = { ...this.policy.capacityDefaults };
    for (const c of CHANNELS) {
      const v = profile.capacity?.[c];
      if (v !== undefined) {
        if (!Number.isInteger(v) || v < 0 || v > 100) throw new RoutingError('invalid', `capacity for ${c} must be 0-100`);
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
      load: existing?.load ?? { voice: 0, chat: 0, sms: 0, email: 0 },
      active: existing?.active ?? [],
      idleSince: existing?.idleSince ?? now,
      missedOffers: existing?.missedOffers ?? 0,
      wrapUpUntil: existing?.wrapUpUntil ?? 0,
      updatedAt: now,
    };
    this.agents.set(agent.id, agent);
    this.index(agent);
    this.agentChanged(agent);
    if (agent.presence === Presence.PRESENCE_AVAILABLE) this.pullFor(agent);
    return this.drain();
  }

  setPresence(agentId: string, presence: Presence): Effect[] {
    const agent = this.agent(agentId);
    const now = this.clock.now();
    if (presence === Presence.PRESENCE_UNSPECIFIED) throw new RoutingError('invalid', 'presence must be set');
    const previous = agent.presence;
    agent.presence = presence;
    agent.wrapUpUntil = 0;
    if (presence === Presence.PRESENCE_AVAILABLE) {
      agent.missedOffers = 0;
      if (previous !== Presence.PRESENCE_AVAILABLE && agent.active.length === 0) agent.idleSince = now;
    }
    if (presence === Presence.PRESENCE_WRAP_UP) this.startWrapUp(agent, now);
    if (presence === Presence.PRESENCE_OFFLINE) {
      // Unfinished work goes back to the front of its queue for someone else.
      for (const id of [...agent.active]) this.requeueFromAgent(this.conversations.get(id)!, agent, 'agent.offline', 'the agent went offline');
    } else if (presence !== Presence.PRESENCE_AVAILABLE) {
      for (const id of [...agent.active]) {
        const conv = this.conversations.get(id)!;
        if (conv.state === 'offered') this.requeueFromAgent(conv, agent, 'agent.unavailable', 'the agent stopped taking conversations before accepting');
      }
    }
    this.staffingCache.clear();
    this.agentChanged(agent);
    if (presence === Presence.PRESENCE_AVAILABLE) this.pullFor(agent);
    return this.drain();
  }

  // ---------------------------------------------------------------- contacts

  /** An inbound message: opens, reopens or adds to a conversation. Repeats of a contact id are ignored. */
  contactReceived(contact: ContactReceived, customer: CustomerInfo = {}): Effect[] {
    const problem = contactProblem(contact);
    if (problem) throw new RoutingError('invalid', problem);
    const channel = channelName(contact.channel)!;
    if (contact.kind === ContactKind.CONTACT_KIND_AUTOMATED) return [];
    const now = this.clock.now();
    let conv = this.conversations.get(contact.conversationId);
    if (conv?.contactIds.includes(contact.contactId)) return [];
    if (conv && conv.state !== 'resolved' && conv.state !== 'abandoned') {
      push(conv.contactIds, contact.contactId, 50);
      this.dirtyConversations.add(conv.id);
      if (conv.agentId && conv.state === 'assigned') {
        this.out.push({ type: 'notify', agentId: conv.agentId, update: { update: { $case: 'customerMessage', customerMessage: { conversationId: conv.id, contact } } } });
      }
      return this.drain();
    }
    const customerKey = customer.customerId || (contact.sender ? `${contact.sender.kind}:${contact.sender.value}` : `conversation:${contact.conversationId}`);
    const flags = customer.flags ?? [];
    const classification = this.classifier.classify({ subject: contact.subject, text: contact.text, language: contact.language, channel, customerFlags: flags });
    const reopened = conv !== undefined;
    conv = {
      id: contact.conversationId,
      channel,
      customerKey,
      customerId: customer.customerId ?? '',
      customerName: customer.name || contact.senderDisplayName,
      flags,
      accountManagerId: customer.accountManagerId ?? '',
      recipient: contact.sender,
      reference: contact.conversationReference,
      subject: contact.subject.slice(0, 500),
      language: contact.language.toLowerCase().split('-')[0] ?? '',
      channelMetadata: contact.channelMetadata,
      state: 'new',
      escalated: false,
      tier: Tier.TIER_FRONT_OFFICE,
      skill: classification.skill,
      queue: '',
      classification,
      points: 0,
      queueKey: 0,
      createdAt: now,
      enqueuedAt: now,
      steps: [],
      stepIndex: 0,
      stepSince: now,
      stepSeq: 0,
      offerSeq: 0,
      agentId: '',
      offerExpiresAt: 0,
      assignedAt: 0,
      declinedBy: [],
      escalationNote: '',
      lastAgentId: '',
      tier1AgentId: '',
      estimateMs: 0,
      slaState: 'running',
      seq: conv?.seq ?? 0,
      contactIds: [...(conv?.contactIds ?? []), contact.contactId].slice(-50),
    };
    this.conversations.set(conv.id, conv);
    conv.points = this.policy.channelPoints[channel] + this.customerPoints(flags) + classification.priority;
    const memory = this.customers.get(customerKey);
    if (memory && memory.lastAgentId && now - memory.lastAgentAt <= this.policy.lastAgentWindowMs) conv.lastAgentId = memory.lastAgentId;
    const target = this.policy.slaTargetMs[channel];
    this.timers.push({ at: now + target * this.policy.slaWarningShare, kind: 'sla_warning', id: conv.id, version: 0 });
    this.timers.push({ at: now + target, kind: 'sla_breach', id: conv.id, version: 0 });
    const rulesText = classification.matched.length ? `rules ${classification.matched.join(', ')}` : 'no rule matched';
    // Automatic escalation at the door: high risk, high complexity, or a repeat contact.
    const key = subjectKey(conv.subject, conv.skill);
    const repeat = memory?.resolved.find((r) => r.subjectKey === key && r.conversationId !== conv!.id && now - r.at <= this.policy.repeatContactWindowMs);
    let auto: Reason | undefined;
    if (this.policy.highRiskToExperts && classification.risk === RiskLevel.RISK_LEVEL_HIGH) {
      auto = { code: 'rule.high_risk', text: `high risk (${rulesText}): straight to the experts`, rule: classification.matched.join(','), targetStep: 0, eligibleAgents: 0, whyChosen: '' };
    } else if (classification.complexity >= this.policy.complexityThreshold) {
      auto = { code: 'rule.complexity', text: `complexity ${classification.complexity} reaches the threshold ${this.policy.complexityThreshold}`, rule: classification.matched.join(','), targetStep: 0, eligibleAgents: 0, whyChosen: '' };
    } else if (repeat) {
      auto = { code: 'rule.repeat_contact', text: `repeat contact on "${key}" within ${Math.round(this.policy.repeatContactWindowMs / 86_400_000)} days (conversation ${repeat.conversationId} was resolved ${Math.round((now - repeat.at) / 3600_000)} h ago)`, rule: 'repeat-contact', targetStep: 0, eligibleAgents: 0, whyChosen: '' };
    }
    if (auto) {
      this.moveToExperts(conv, '', '', conv.skill, true, auto);
    } else {
      const code = reopened ? 'conversation.reopened' : 'conversation.new';
      this.enqueue(conv, false, { code, text: `${reopened ? 'reopened' : 'new'} ${channel} conversation classified by ${rulesText}`, rule: classification.matched.join(','), targetStep: 0, eligibleAgents: 0, whyChosen: '' });
    }
    return this.drain();
  }

  // ---------------------------------------------------------------- agent actions

  accept(agentId: string, conversationId: string): Effect[] {
    const agent = this.agent(agentId);
    const conv = this.conversation(conversationId);
    if (conv.state !== 'offered' || conv.agentId !== agentId) throw new RoutingError('precondition', `conversation ${conversationId} is not offered to ${agentId}`);
    const now = this.clock.now();
    agent.missedOffers = 0;
    this.assign(conv, agent, now, { code: 'offer.accepted', text: `${agent.name || agent.id} accepted the offer`, rule: '', targetStep: 0, eligibleAgents: 0, whyChosen: '' });
    return this.drain();
  }

  decline(agentId: string, conversationId: string): Effect[] {
    const agent = this.agent(agentId);
    const conv = this.conversation(conversationId);
    if (conv.state !== 'offered' || conv.agentId !== agentId) throw new RoutingError('precondition', `conversation ${conversationId} is not offered to ${agentId}`);
    this.offerEnded(conv, agent, false);
    return this.drain();
  }

  /** Returns the effects and the outbound message id. */
  reply(agentId: string, conversationId: string, text: string, subject = ''): { effects: Effect[]; messageId: string } {
    const conv = this.assignedTo(agentId, conversationId);
    if (!text.trim()) throw new RoutingError('invalid', 'reply text is empty');
    if (text.length > 20_000) throw new RoutingError('invalid', 'reply text is longer than 20,000 characters');
    const now = this.clock.now();
    const message = this.outbound(conv, OutboundKind.OUTBOUND_KIND_REPLY, text, agentId, subject || (conv.subject && conv.channel === 'email' ? `Re: ${conv.subject}` : ''));
    this.emit(conv, { code: 'agent.replied', text: 'the agent replied', rule: '', targetStep: 0, eligibleAgents: 0, whyChosen: '' }, { $case: 'replied', replied: { agentId, outboundMessageId: message.messageId, text } });
    // Written channels: the first reply is the first response.
    if (conv.channel === 'sms' || conv.channel === 'email') this.stopSla(conv, now);
    return { effects: this.drain(), messageId: message.messageId };
  }

  escalate(agentId: string, conversationId: string, note: string, skill = ''): Effect[] {
    const conv = this.assignedTo(agentId, conversationId);
    const agent = this.agent(agentId);
    if (conv.tier === Tier.TIER_EXPERT) throw new RoutingError('precondition', 'the conversation is already with the experts');
    if (note.length > 5000) throw new RoutingError('invalid', 'note is longer than 5,000 characters');
    if (skill && !/^[a-z0-9_-]{1,64}$/.test(skill)) throw new RoutingError('invalid', 'skill must be lower-case letters, digits, _ or -');
    this.release(conv, agent);
    this.moveToExperts(conv, agentId, note, skill || conv.skill, false, { code: 'agent.escalated', text: `${agent.name || agent.id} escalated to the experts`, rule: '', targetStep: 0, eligibleAgents: 0, whyChosen: '' });
    this.pullFor(agent);
    return this.drain();
  }

  handBack(agentId: string, conversationId: string, note: string): Effect[] {
    const conv = this.assignedTo(agentId, conversationId);
    const agent = this.agent(agentId);
    if (conv.tier !== Tier.TIER_EXPERT) throw new RoutingError('precondition', 'only an escalated conversation can be handed back');
    this.release(conv, agent);
    this.emit(conv, { code: 'expert.handed_back', text: `${agent.name || agent.id} handed the conversation back to the front office`, rule: '', targetStep: 0, eligibleAgents: 0, whyChosen: '' }, { $case: 'handedBack', handedBack: { expertAgentId: agentId, note } });
    conv.tier = Tier.TIER_FRONT_OFFICE;
    conv.escalated = false;
    conv.escalationNote = note;
    // The front-office agent who escalated it is the first target (as "last agent").
    if (conv.tier1AgentId) conv.lastAgentId = conv.tier1AgentId;
    conv.accountManagerId = '';
    this.enqueue(conv, true, { code: 'expert.handed_back', text: 'back in the front-office queue, at the front', rule: '', targetStep: 0, eligibleAgents: 0, whyChosen: '' });
    this.pullFor(agent);
    return this.drain();
  }

  transfer(agentId: string, conversationId: string, target: { toAgentId?: string; toQueue?: string; note?: string }): Effect[] {
    const conv = this.assignedTo(agentId, conversationId);
    this.moveTo(conv, this.agent(agentId), target, 'agent.transferred');
    return this.drain();
  }

  /** Supervisor: moves a conversation (queued, offered or assigned) to another agent. */
  reassign(conversationId: string, toAgentId: string): Effect[] {
    const conv = this.conversation(conversationId);
    if (conv.state === 'resolved' || conv.state === 'abandoned') throw new RoutingError('precondition', `conversation ${conversationId} is ${conv.state}`);
    const from = conv.agentId ? this.agents.get(conv.agentId) : undefined;
    this.moveTo(conv, from, { toAgentId }, 'supervisor.reassigned');
    return this.drain();
  }

  resolve(agentId: string, conversationId: string, disposition: string): Effect[] {
    const conv = this.assignedTo(agentId, conversationId);
    const agent = this.agent(agentId);
    const now = this.clock.now();
    if (disposition.length > 200) throw new RoutingError('invalid', 'disposition is longer than 200 characters');
    this.stopSla(conv, now);
    push(this.queueMetrics(conv.queue).handleMs, now - conv.assignedAt, 50);
    this.release(conv, agent);
    conv.state = 'resolved';
    this.emit(conv, { code: 'agent.resolved', text: `resolved by ${agent.name || agent.id}: ${disposition || 'no disposition'}`, rule: '', targetStep: 0, eligibleAgents: 0, whyChosen: '' }, { $case: 'resolved', resolved: { agentId, disposition } });
    this.outbound(conv, OutboundKind.OUTBOUND_KIND_SURVEY, 'How did we do? Please rate this conversation from 1 (poor) to 5 (excellent).', '');
    const memory = this.customers.get(conv.customerKey) ?? { key: conv.customerKey, lastAgentId: '', lastAgentAt: 0, resolved: [] };
    if (agent.tier === Tier.TIER_FRONT_OFFICE) {
      memory.lastAgentId = agentId;
      memory.lastAgentAt = now;
    }
    memory.resolved = memory.resolved.filter((r) => now - r.at <= this.policy.repeatContactWindowMs);
    push(memory.resolved, { subjectKey: subjectKey(conv.subject, conv.skill), at: now, conversationId: conv.id }, 20);
    this.customers.set(memory.key, memory);
    this.dirtyCustomers.add(memory.key);
    if (this.policy.wrapUpMs > 0 && agent.presence === Presence.PRESENCE_AVAILABLE) {
      agent.presence = Presence.PRESENCE_WRAP_UP;
      this.startWrapUp(agent, now);
      this.agentChanged(agent);
    } else this.pullFor(agent);
    return this.drain();
  }

  /** The customer left before being answered (a caller hung up, a chat closed). */
  abandon(conversationId: string): Effect[] {
    const conv = this.conversation(conversationId);
    if (conv.state !== 'queued' && conv.state !== 'offered') return [];
    const now = this.clock.now();
    if (conv.state === 'offered') this.release(conv, this.agent(conv.agentId));
    else this.leaveQueue(conv);
    conv.state = 'abandoned';
    conv.slaState = 'stopped';
    this.emit(conv, { code: 'customer.abandoned', text: 'the customer left before an agent answered', rule: '', targetStep: 0, eligibleAgents: 0, whyChosen: '' }, { $case: 'abandoned', abandoned: { waitedMs: now - conv.createdAt } });
    return this.drain();
  }

  /** Runs what is due: offer timeouts, target widening, SLA warnings and breaches, end of wrap-up. */
  tick(): Effect[] {
    const now = this.clock.now();
    for (let t = this.timers.popDue(now); t; t = this.timers.popDue(now)) this.fire(t, now);
    return this.drain();
  }

  // ---------------------------------------------------------------- queries

  waitEstimate(conversationId: string): { queue: string; position: number; estimatedWaitMs: number; fromTarget: boolean } {
    const conv = this.conversation(conversationId);
    if (conv.state !== 'queued') return { queue: conv.queue, position: 0, estimatedWaitMs: 0, fromTarget: false };
    const position = this.queues.get(conv.queue)?.position(conv.id) ?? 0;
    return { queue: conv.queue, position, ...this.estimate(conv.queue, conv.channel, position) };
  }

  queueStats(): QueueStats[] {
    const now = this.clock.now();
    const stats: QueueStats[] = [];
    for (const [name, queue] of this.queues) {
      const [tierPart, , ch] = name.split('/') as [string, string, ChannelName];
      const m = this.queueMetrics(name);
      m.arrivals = m.arrivals.filter((t) => now - t <= this.policy.arrivalWindowMs);
      // Arrivals per the time observed, but never less than five minutes of it: just after a start,
      // one arrival a moment ago is not a rate of thousands an hour.
      const windowMs = Math.min(this.policy.arrivalWindowMs, Math.max(now - this.startedAt, MIN_RATE_WINDOW_MS));
      const aht = m.handleMs.length ? mean(m.handleMs) : this.policy.defaultHandleMs[ch];
      const perAgent = Math.max(1, this.policy.capacityDefaults[ch]);
      const servers = serversNeeded(m.arrivals.length / windowMs, aht, this.policy.slaTargetMs[ch], this.policy.serviceLevelTarget, 10_000);
      const oldest = queue.entries.reduce((o, e) => Math.max(o, now - (this.conversations.get(e.id)?.enqueuedAt ?? now)), 0);
      stats.push({
        queue: name,
        channel: CHANNEL_ENUM[ch],
        tier: tierPart === 'tier2' ? Tier.TIER_EXPERT : Tier.TIER_FRONT_OFFICE,
        waiting: queue.length,
        oldestWaitMs: oldest,
        serviceLevel: m.sla.length ? m.sla.filter(Boolean).length / m.sla.length : 1,
        estimatedWaitMs: this.estimate(name, ch, queue.length + 1).estimatedWaitMs,
        agentsStaffed: this.staffedAgents(name),
        agentsNeeded: Math.ceil(servers / perAgent),
        arrivalsPerMinute: (m.arrivals.length / windowMs) * 60_000,
        averageHandleMs: Math.round(aht),
        ewtMeanAbsoluteErrorMs: Math.round(mean(m.ewtErrors)),
      });
    }
    return stats.sort((a, b) => a.queue.localeCompare(b.queue));
  }

  /** Mean absolute EWT error and mean actual wait over the recent window of one queue. */
  ewtAccuracy(queue: string): { meanAbsoluteErrorMs: number; meanActualWaitMs: number; samples: number } {
    const m = this.queueMetrics(queue);
    return { meanAbsoluteErrorMs: mean(m.ewtErrors), meanActualWaitMs: mean(m.actualWaits), samples: m.ewtErrors.length };
  }

  agentState(agentId: string): AgentState {
    const a = this.agent(agentId);
    return AgentState.fromPartial({
      agentId: a.id,
      name: a.name,
      tier: a.tier,
      skills: Object.entries(a.skills).map(([name, level]) => ({ name, level })),
      languages: a.languages,
      presence: a.presence,
      load: CHANNELS.map((c) => ({ channel: CHANNEL_ENUM[c], active: a.load[c], capacity: a.capacity[c] })),
      totalCapacity: a.totalCapacity,
      updatedAt: new Date(a.updatedAt),
      wrapUpUntil: a.wrapUpUntil ? new Date(a.wrapUpUntil) : undefined,
      idleSince: new Date(a.idleSince),
    });
  }

  /** The conversation as it stands, for the agent's own checks. */
  conversationState(conversationId: string): ConversationRecord | undefined {
    return this.conversations.get(conversationId);
  }

  // ---------------------------------------------------------------- snapshots

  /** Rebuilds state from snapshots. Offers in flight when the process stopped go back to the front of their queue. */
  restore(data: { agents: AgentRecord[]; conversations: ConversationRecord[]; customers: CustomerMemory[] }): Effect[] {
    const now = this.clock.now();
    for (const a of data.agents) {
      this.agents.set(a.id, { ...a });
      this.index(a);
    }
    for (const c of data.customers) this.customers.set(c.key, c);
    for (const c of data.conversations) this.conversations.set(c.id, { ...c });
    for (const conv of this.conversations.values()) {
      if (conv.state === 'queued' || conv.state === 'offered') {
        if (conv.slaState !== 'stopped' && conv.slaState !== 'breached') {
          const target = this.policy.slaTargetMs[conv.channel];
          if (conv.slaState === 'running') this.timers.push({ at: conv.createdAt + target * this.policy.slaWarningShare, kind: 'sla_warning', id: conv.id, version: 0 });
          this.timers.push({ at: conv.createdAt + target, kind: 'sla_breach', id: conv.id, version: 0 });
        }
      }
      if (conv.state === 'queued') {
        this.queue(conv.queue).insert(conv.id, conv.queueKey);
        this.scheduleStep(conv);
        this.trackTargets(conv, true);
      } else if (conv.state === 'offered') {
        const agent = this.agents.get(conv.agentId);
        if (agent) this.requeueFromAgent(conv, agent, 'restart.offer_revoked', 'routing restarted while the offer was open');
      }
    }
    // Conversations counted in an agent's load but no longer theirs are dropped from the load.
    for (const a of this.agents.values()) {
      a.active = a.active.filter((id) => this.conversations.get(id)?.agentId === a.id);
      this.updateReady(a);
    }
    for (const conv of this.conversations.values()) if (conv.state === 'queued') this.tryAssign(conv, now);
    return this.drain();
  }

  // ---------------------------------------------------------------- internals

  private agent(id: string): AgentRecord {
    const a = this.agents.get(id);
    if (!a) throw new RoutingError('not_found', `agent ${id} is not registered`);
    return a;
  }

  private conversation(id: string): ConversationRecord {
    const c = this.conversations.get(id);
    if (!c) throw new RoutingError('not_found', `conversation ${id} is unknown`);
    return c;
  }

  private assignedTo(agentId: string, conversationId: string): ConversationRecord {
    this.agent(agentId);
    const conv = this.conversation(conversationId);
    if (conv.state !== 'assigned' || conv.agentId !== agentId) throw new RoutingError('precondition', `conversation ${conversationId} is not assigned to ${agentId}`);
    return conv;
  }

  /** True when some record changed since the last takeChanges(). */
  hasChanges(): boolean {
    return this.dirtyConversations.size > 0 || this.dirtyAgents.size > 0 || this.dirtyCustomers.size > 0;
  }

  /** The ids of the records changed since the last call, to be written; the engine forgets them. */
  takeChanges(): StateChanges {
    const changes = { conversations: [...this.dirtyConversations], agents: [...this.dirtyAgents], customers: [...this.dirtyCustomers] };
    this.dirtyConversations.clear();
    this.dirtyAgents.clear();
    this.dirtyCustomers.clear();
    return changes;
  }

  /** Changes whose write failed: they are taken again with the next ones. */
  returnChanges(changes: StateChanges): void {
    for (const id of changes.conversations) this.dirtyConversations.add(id);
    for (const id of changes.agents) this.dirtyAgents.add(id);
    for (const id of changes.customers) this.dirtyCustomers.add(id);
  }

  private drain(): Effect[] {
    const out = this.out;
    this.out = [];
    return out;
  }

  private customerPoints(flags: string[]): number {
    const p = this.policy.customerPoints;
    if (flags.includes('institutional')) return p.institutional;
    if (flags.includes('vip')) return p.vip;
    if (flags.includes('regular')) return p.regular;
    return 0;
  }

  private index(agent: AgentRecord): void {
    for (const skill of Object.keys(agent.skills)) {
      const key = `${agent.tier}/${skill}`;
      let set = this.bySkill.get(key);
      if (!set) this.bySkill.set(key, (set = new Set()));
      set.add(agent.id);
    }
    let tierSet = this.byTier.get(agent.tier);
    if (!tierSet) this.byTier.set(agent.tier, (tierSet = new Set()));
    tierSet.add(agent.id);
    this.staffingCache.clear();
    this.updateReady(agent);
  }

  private readyKeys(agent: AgentRecord): string[] {
    // Skills and tier never change on a record (re-registering makes a new one), so the keys are built once.
    let keys = this.readyKeyCache.get(agent);
    if (!keys) this.readyKeyCache.set(agent, (keys = [...Object.keys(agent.skills).map((skill) => `${agent.tier}/${skill}`), `${agent.tier}/*`]));
    return keys;
  }

  /** Moves the agent to the bucket matching their presence and load (to the end: newest). */
  private updateReady(agent: AgentRecord, remove = false): void {
    const old = this.readyBucket.get(agent.id);
    const next = !remove && agent.presence === Presence.PRESENCE_AVAILABLE && agent.active.length < agent.totalCapacity ? agent.active.length : -1;
    for (const key of this.readyKeys(agent)) {
      const buckets = this.ready.get(key) ?? [];
      if (old !== undefined && old >= 0) buckets[old]?.delete(agent.id);
      if (next >= 0) {
        (buckets[next] ??= new Set()).add(agent.id);
        this.ready.set(key, buckets);
      }
    }
    if (next >= 0) this.readyBucket.set(agent.id, next);
    else this.readyBucket.delete(agent.id);
  }

  private unindex(agent: AgentRecord): void {
    this.updateReady(agent, true);
    for (const skill of Object.keys(agent.skills)) this.bySkill.get(`${agent.tier}/${skill}`)?.delete(agent.id);
    this.byTier.get(agent.tier)?.delete(agent.id);
    this.staffingCache.clear();
  }

  private agentChanged(agent: AgentRecord): void {
    agent.updatedAt = this.clock.now();
    if (this.readyBucket.get(agent.id) !== (agent.presence === Presence.PRESENCE_AVAILABLE && agent.active.length < agent.totalCapacity ? agent.active.length : -1) || agent.presence !== Presence.PRESENCE_AVAILABLE) {
      this.updateReady(agent);
    }
    this.dirtyAgents.add(agent.id);
    this.out.push({ type: 'agent_state', state: this.agentState(agent.id) });
  }

  private emit(conv: ConversationRecord, reason: Reason, step: NonNullable<ConversationEvent['step']>): void {
    this.dirtyConversations.add(conv.id);
    const event = ConversationEvent.fromPartial({
      eventId: `${conv.id}/${++conv.seq}`,
      conversationId: conv.id,
      occurredAt: new Date(this.clock.now()),
      channel: CHANNEL_ENUM[conv.channel],
      customerId: conv.customerId,
      reason,
    });
    event.step = step;
    this.out.push({ type: 'conversation', event });
  }

  private outbound(conv: ConversationRecord, kind: OutboundKind, text: string, agentId: string, subject = '', position = 0, estimatedWaitMs = 0): OutboundMessage {
    // Derived from the conversation's event sequence: the same decision always yields the same id,
    // so a decision published again after a crash is de-duplicated downstream.
    const message = OutboundMessage.fromPartial({
      messageId: `${conv.id}/out/${conv.seq}/${kind}`,
      conversationId: conv.id,
      channel: CHANNEL_ENUM[conv.channel],
      kind,
      recipient: conv.recipient,
      subject,
      text,
      agentId,
      createdAt: new Date(this.clock.now()),
      queuePosition: position,
      estimatedWaitMs,
      conversationReference: conv.reference,
      channelMetadata: conv.channelMetadata,
    });
    this.out.push({ type: 'outbound', message });
    return message;
  }

  private queue(name: string): ConversationQueue {
    let q = this.queues.get(name);
    if (!q) this.queues.set(name, (q = new ConversationQueue(name)));
    return q;
  }

  private queueMetrics(name: string): QueueMetrics {
    let m = this.metrics.get(name);
    if (!m) this.metrics.set(name, (m = { handleMs: [], sla: [], arrivals: [], ewtErrors: [], actualWaits: [] }));
    return m;
  }

  private moveToExperts(conv: ConversationRecord, fromAgentId: string, note: string, skill: string, automatic: boolean, reason: Reason): void {
    if (fromAgentId) conv.tier1AgentId = fromAgentId;
    conv.tier = Tier.TIER_EXPERT;
    conv.escalated = true;
    conv.skill = skill;
    conv.escalationNote = note;
    conv.declinedBy = [];
    const queue = queueName(conv.tier, skill, conv.channel);
    this.emit(conv, reason, { $case: 'escalated', escalated: { fromAgentId, note, queue, skill, automatic } });
    this.outbound(conv, OutboundKind.OUTBOUND_KIND_STATUS_UPDATE, 'Your conversation has been passed to a specialist, who will answer you as soon as possible.', '');
    this.enqueue(conv, false, reason);
  }

  private enqueue(conv: ConversationRecord, front: boolean, reason: Reason): void {
    const now = this.clock.now();
    const firstTime = conv.state === 'new';
    conv.queue = queueName(conv.tier, conv.skill, conv.channel);
    conv.state = 'queued';
    conv.agentId = '';
    conv.enqueuedAt = now;
    const queue = this.queue(conv.queue);
    conv.queueKey = front ? queue.frontKey() : conv.points * this.policy.ageingStepMs - now;
    queue.insert(conv.id, conv.queueKey);
    push(this.queueMetrics(conv.queue).arrivals, now, 5000);
    // Target list: account manager, last agent, then the tier widening step by step.
    const steps: number[] = [];
    if (conv.tier === Tier.TIER_FRONT_OFFICE) {
      const am = conv.accountManagerId ? this.agents.get(conv.accountManagerId) : undefined;
      if (am && am.presence !== Presence.PRESENCE_OFFLINE) steps.push(1);
      const last = conv.lastAgentId ? this.agents.get(conv.lastAgentId) : undefined;
      if (last && last.presence !== Presence.PRESENCE_OFFLINE && last.id !== conv.accountManagerId) steps.push(2);
    }
    steps.push(3, 4, 5);
    conv.steps = steps;
    conv.stepIndex = 0;
    conv.stepSince = now;
    this.scheduleStep(conv);
    this.trackTargets(conv, true);
    const position = queue.position(conv.id);
    const est = this.estimate(conv.queue, conv.channel, position);
    conv.estimateMs = est.estimatedWaitMs;
    this.emit(conv, reason, {
      $case: 'queued',
      queued: { queue: conv.queue, skill: conv.skill, tier: conv.tier, priority: conv.points, position, estimatedWaitMs: est.estimatedWaitMs, risk: conv.classification.risk, complexity: conv.classification.complexity },
    });
    this.tryAssign(conv, now);
    if (conv.state === 'queued' && (firstTime || front)) {
      const p = queue.position(conv.id);
      const e = this.estimate(conv.queue, conv.channel, p);
      this.outbound(conv, OutboundKind.OUTBOUND_KIND_STATUS_UPDATE, `You are number ${p} in the queue. Estimated wait: ${formatWait(e.estimatedWaitMs)}.`, '', '', p, e.estimatedWaitMs);
    }
  }

  private scheduleStep(conv: ConversationRecord): void {
    const step = conv.steps[conv.stepIndex];
    const timeout = step === 1 ? this.policy.stepTimeoutMs.accountManager : step === 2 ? this.policy.stepTimeoutMs.lastAgent : step === 3 ? this.policy.stepTimeoutMs.skilled : step === 4 ? this.policy.stepTimeoutMs.anyLevel : undefined;
    if (timeout !== undefined) this.timers.push({ at: conv.stepSince + timeout, kind: 'step', id: conv.id, version: ++conv.stepSeq });
    if (step === 5) {
      let set = this.widened.get(conv.tier);
      if (!set) this.widened.set(conv.tier, (set = new Set()));
      set.add(conv.id);
    }
  }

  private trackTargets(conv: ConversationRecord, on: boolean): void {
    for (const id of [conv.accountManagerId, conv.lastAgentId]) {
      if (!id) continue;
      let set = this.targeting.get(id);
      if (on) {
        if (!set) this.targeting.set(id, (set = new Set()));
        set.add(conv.id);
      } else set?.delete(conv.id);
    }
  }

  private leaveQueue(conv: ConversationRecord): void {
    this.queues.get(conv.queue)?.remove(conv.id);
    this.trackTargets(conv, false);
    this.widened.get(conv.tier)?.delete(conv.id);
    conv.stepSeq++;
  }

  private canTake(agent: AgentRecord, conv: ConversationRecord): boolean {
    return (
      agent.presence === Presence.PRESENCE_AVAILABLE &&
      agent.load[conv.channel] < agent.capacity[conv.channel] &&
      agent.active.length < agent.totalCapacity &&
      !conv.declinedBy.includes(agent.id)
    );
  }

  /** The step of the target list through which `agent` may take `conv` now (0: not eligible). */
  private matchStep(conv: ConversationRecord, agent: AgentRecord): number {
    const current = conv.steps[conv.stepIndex] ?? 5;
    for (const step of conv.steps) {
      if (step > current) break;
      if (step === 1 && agent.id === conv.accountManagerId) return 1;
      if (step === 2 && agent.id === conv.lastAgentId) return 2;
      if (step >= 3 && agent.tier === conv.tier) {
        const level = agent.skills[conv.skill];
        if (step === 3 && level !== undefined && level >= conv.classification.minLevel && (!conv.language || agent.languages.length === 0 || agent.languages.includes(conv.language))) return 3;
        if (step === 4 && level !== undefined) return 4;
        if (step === 5) return 5;
      }
    }
    return 0;
  }

  private better(a: AgentRecord, b: AgentRecord | undefined): boolean {
    if (!b) return true;
    if (a.active.length !== b.active.length) return a.active.length < b.active.length;
    return a.idleSince < b.idleSince || (a.idleSince === b.idleSince && a.id < b.id);
  }

  /** Pushes a waiting conversation to the best eligible agent, if any. */
  private tryAssign(conv: ConversationRecord, now: number): void {
    if (conv.state !== 'queued') return;
    let best: AgentRecord | undefined;
    let bestStep = 0;
    let eligible = 0;
    const consider = (agent: AgentRecord | undefined) => {
      if (!agent || !this.canTake(agent, conv)) return;
      const step = this.matchStep(conv, agent);
      if (!step) return;
      eligible++;
      if (!best || step < bestStep || (step === bestStep && this.better(agent, best))) {
        best = agent;
        bestStep = step;
      }
    };
    const current = conv.steps[conv.stepIndex] ?? 5;
    if (conv.accountManagerId) consider(this.agents.get(conv.accountManagerId));
    if (conv.lastAgentId && conv.lastAgentId !== conv.accountManagerId) consider(this.agents.get(conv.lastAgentId));
    if (!best && current >= 3) {
      // Buckets in order of load, each in order of idleness: the first match is the best one
      // of its step, so the scan stops at the first agent of step 3.
      const scan = (key: string, maxStep: number) => {
        let fallback: AgentRecord | undefined;
        let fallbackStep = 0;
        for (const bucket of this.ready.get(key) ?? []) {
          if (!bucket) continue;
          eligible += bucket.size;
          for (const id of bucket) {
            const agent = this.agents.get(id)!;
            if (!this.canTake(agent, conv)) continue;
            const step = this.matchStep(conv, agent);
            if (step === 3) return { agent, step };
            if (step && step <= maxStep && !fallback) {
              fallback = agent;
              fallbackStep = step;
            }
          }
        }
        return fallback ? { agent: fallback, step: fallbackStep } : undefined;
      };
      eligible = 0;
      const found = scan(`${conv.tier}/${conv.skill}`, Math.min(current, 4)) ?? (current >= 5 ? scan(`${conv.tier}/*`, 5) : undefined);
      if (found) {
        best = found.agent;
        bestStep = found.step;
      }
    }
    if (!best) return;
    const chosen: AgentRecord = best;
    this.offer(conv, chosen, now, bestStep, eligible, `${stepName(bestStep)}; ${eligible > 1 ? 'longest idle among them' : 'the only one free'}: idle ${Math.round((now - chosen.idleSince) / 1000)} s, ${chosen.active.length} active`);
  }

  /** An agent has room: gives them the most urgent conversation they are eligible for. */
  private pullFor(agent: AgentRecord): void {
    const now = this.clock.now();
    for (let guard = 0; guard < 100 && agent.presence === Presence.PRESENCE_AVAILABLE && agent.active.length < agent.totalCapacity; guard++) {
      let best: ConversationRecord | undefined;
      let bestStep = 0;
      const consider = (id: string) => {
        const conv = this.conversations.get(id);
        if (!conv || conv.state !== 'queued' || (best && conv.queueKey <= best.queueKey) || !this.canTake(agent, conv)) return;
        const step = this.matchStep(conv, agent);
        if (step) {
          best = conv;
          bestStep = step;
        }
      };
      for (const skill of Object.keys(agent.skills)) {
        for (const ch of CHANNELS) {
          if (agent.capacity[ch] <= agent.load[ch]) continue;
          const q = this.queues.get(queueName(agent.tier, skill, ch));
          if (!q) continue;
          // The head is usually it; a few more cover entries still at a narrower step.
          for (let i = 0; i < Math.min(q.length, 20); i++) consider(q.entries[i]!.id);
        }
      }
      for (const id of this.targeting.get(agent.id) ?? []) consider(id);
      for (const id of this.widened.get(agent.tier) ?? []) consider(id);
      if (!best) return;
      const conv: ConversationRecord = best;
      this.offer(conv, agent, now, bestStep, 1, `${stepName(bestStep)}; first eligible agent to have room, most urgent conversation in the queues they serve`);
    }
  }

  private offer(conv: ConversationRecord, agent: AgentRecord, now: number, step: number, eligible: number, why: string): void {
    this.leaveQueue(conv);
    conv.state = 'offered';
    conv.agentId = agent.id;
    conv.offerExpiresAt = now + this.policy.offerTimeoutMs;
    agent.active.push(conv.id);
    agent.load[conv.channel]++;
    agent.idleSince = now;
    const reason: Reason = { code: `target.${stepCode(step)}`, text: `offered to ${agent.name || agent.id} (${stepName(step)})`, rule: conv.classification.matched.join(','), targetStep: step, eligibleAgents: eligible, whyChosen: why };
    this.emit(conv, reason, { $case: 'offered', offered: { agentId: agent.id, expiresAt: new Date(conv.offerExpiresAt) } });
    this.timers.push({ at: conv.offerExpiresAt, kind: 'offer', id: conv.id, version: ++conv.offerSeq });
    this.out.push({ type: 'notify', agentId: agent.id, update: { update: { $case: 'offer', offer: this.offerView(conv, reason) } } });
    this.agentChanged(agent);
  }

  private offerView(conv: ConversationRecord, reason: Reason) {
    return {
      conversationId: conv.id,
      channel: CHANNEL_ENUM[conv.channel],
      customerId: conv.customerId,
      customerName: conv.customerName,
      badges: conv.flags,
      expiresAt: conv.state === 'offered' ? new Date(conv.offerExpiresAt) : undefined,
      subject: conv.subject,
      escalationNote: conv.escalationNote,
      reason,
      customerIdentity: conv.recipient,
    };
  }

  private assign(conv: ConversationRecord, agent: AgentRecord, now: number, reason: Reason): void {
    const waited = now - conv.enqueuedAt;
    conv.state = 'assigned';
    conv.agentId = agent.id;
    conv.assignedAt = now;
    conv.offerSeq++;
    if (!agent.active.includes(conv.id)) {
      agent.active.push(conv.id);
      agent.load[conv.channel]++;
    }
    const m = this.queueMetrics(conv.queue);
    push(m.ewtErrors, Math.abs(conv.estimateMs - waited));
    push(m.actualWaits, waited);
    this.emit(conv, reason, { $case: 'assigned', assigned: { agentId: agent.id, tier: agent.tier, waitedMs: waited } });
    if (conv.channel === 'voice' || conv.channel === 'chat') this.stopSla(conv, now);
    if (conv.channel === 'chat') this.outbound(conv, OutboundKind.OUTBOUND_KIND_AGENT_JOINED, `${agent.name || 'An agent'} has joined the conversation.`, agent.id);
    if (conv.channel === 'voice') this.outbound(conv, OutboundKind.OUTBOUND_KIND_CONNECT_CALL, '', agent.id);
    this.out.push({ type: 'notify', agentId: agent.id, update: { update: { $case: 'assigned', assigned: this.offerView(conv, reason) } } });
    this.agentChanged(agent);
  }

  /** Takes a conversation off an agent's load. */
  private release(conv: ConversationRecord, agent: AgentRecord): void {
    const i = agent.active.indexOf(conv.id);
    if (i >= 0) {
      agent.active.splice(i, 1);
      agent.load[conv.channel] = Math.max(0, agent.load[conv.channel] - 1);
    }
    agent.idleSince = this.clock.now();
    conv.offerSeq++;
    this.agentChanged(agent);
  }

  private offerEnded(conv: ConversationRecord, agent: AgentRecord, timedOut: boolean): void {
    this.release(conv, agent);
    conv.declinedBy.push(agent.id);
    this.emit(conv, { code: timedOut ? 'offer.timed_out' : 'offer.declined', text: timedOut ? `no answer from ${agent.id} within ${this.policy.offerTimeoutMs / 1000} s` : `${agent.id} declined`, rule: '', targetStep: 0, eligibleAgents: 0, whyChosen: '' }, { $case: 'offerDeclined', offerDeclined: { agentId: agent.id, timedOut } });
    this.out.push({ type: 'notify', agentId: agent.id, update: { update: { $case: 'revoked', revoked: { conversationId: conv.id, reason: { code: timedOut ? 'offer.timed_out' : 'offer.declined', text: 'offer withdrawn', rule: '', targetStep: 0, eligibleAgents: 0, whyChosen: '' } } } } });
    if (timedOut && ++agent.missedOffers >= this.policy.maxMissedOffers) {
      agent.presence = Presence.PRESENCE_AWAY;
      this.staffingCache.clear();
      this.agentChanged(agent);
    }
    // Back in its old place in the queue, then on to the next candidate.
    const now = this.clock.now();
    conv.state = 'queued';
    conv.agentId = '';
    this.queue(conv.queue).insert(conv.id, conv.queueKey);
    this.trackTargets(conv, true);
    if ((conv.steps[conv.stepIndex] ?? 5) === 5) this.widened.get(conv.tier)?.add(conv.id);
    this.scheduleStepRetry(conv);
    this.tryAssign(conv, now);
    if (!timedOut) this.pullFor(agent);
  }

  private scheduleStepRetry(conv: ConversationRecord): void {
    const step = conv.steps[conv.stepIndex];
    const timeout = step === 1 ? this.policy.stepTimeoutMs.accountManager : step === 2 ? this.policy.stepTimeoutMs.lastAgent : step === 3 ? this.policy.stepTimeoutMs.skilled : step === 4 ? this.policy.stepTimeoutMs.anyLevel : undefined;
    if (timeout !== undefined) this.timers.push({ at: Math.max(conv.stepSince + timeout, this.clock.now()), kind: 'step', id: conv.id, version: ++conv.stepSeq });
  }

  private requeueFromAgent(conv: ConversationRecord, agent: AgentRecord, code: string, text: string): void {
    this.release(conv, agent);
    this.out.push({ type: 'notify', agentId: agent.id, update: { update: { $case: 'revoked', revoked: { conversationId: conv.id, reason: { code, text, rule: '', targetStep: 0, eligibleAgents: 0, whyChosen: '' } } } } });
    conv.declinedBy = [agent.id];
    const reason: Reason = { code, text, rule: '', targetStep: 0, eligibleAgents: 0, whyChosen: '' };
    this.emit(conv, reason, { $case: 'requeued', requeued: { previousAgentId: agent.id } });
    if (conv.lastAgentId === agent.id) conv.lastAgentId = '';
    if (conv.accountManagerId === agent.id) conv.accountManagerId = '';
    // Ahead of everyone else waiting.
    conv.state = 'queued';
    this.enqueue(conv, true, reason);
  }

  private moveTo(conv: ConversationRecord, from: AgentRecord | undefined, target: { toAgentId?: string; toQueue?: string; note?: string }, code: string): void {
    const note = target.note ?? '';
    if (note.length > 5000) throw new RoutingError('invalid', 'note is longer than 5,000 characters');
    const now = this.clock.now();
    if (target.toAgentId) {
      const to = this.agent(target.toAgentId);
      if (to.id === from?.id && conv.state === 'assigned') throw new RoutingError('precondition', 'the conversation is already with that agent');
      if (to.presence !== Presence.PRESENCE_AVAILABLE || to.load[conv.channel] >= to.capacity[conv.channel] || to.active.length >= to.totalCapacity) {
        throw new RoutingError('precondition', `agent ${to.id} has no room for a ${conv.channel} conversation now`);
      }
      if (conv.state === 'queued') this.leaveQueue(conv);
      if (from) {
        this.release(conv, from);
        this.out.push({ type: 'notify', agentId: from.id, update: { update: { $case: 'revoked', revoked: { conversationId: conv.id, reason: { code, text: `moved to ${to.id}`, rule: '', targetStep: 0, eligibleAgents: 0, whyChosen: '' } } } } });
      }
      const reason: Reason = { code, text: `moved from ${from?.id ?? 'the queue'} to ${to.id}`, rule: '', targetStep: 0, eligibleAgents: 1, whyChosen: 'named by the person who moved it' };
      this.emit(conv, reason, { $case: 'transferred', transferred: { fromAgentId: from?.id ?? '', toAgentId: to.id, toQueue: '', note } });
      conv.escalationNote = note || conv.escalationNote;
      if (to.tier === Tier.TIER_EXPERT) conv.tier = Tier.TIER_EXPERT;
      this.assign(conv, to, now, reason);
      if (from) this.pullFor(from);
      return;
    }
    if (!target.toQueue) throw new RoutingError('invalid', 'give either to_agent_id or to_queue');
    const m = /^(?:tier([12])\/)?([a-z0-9_-]{1,64})(?:\/(voice|chat|sms|email))?$/.exec(target.toQueue);
    if (!m) throw new RoutingError('invalid', 'to_queue must be a skill or tier1/<skill> or tier2/<skill>');
    if (m[3] && m[3] !== conv.channel) throw new RoutingError('invalid', `the conversation is on ${conv.channel}, not ${m[3]}`);
    if (conv.state === 'queued') this.leaveQueue(conv);
    if (from) this.release(conv, from);
    const tier = m[1] === '2' ? Tier.TIER_EXPERT : m[1] === '1' ? Tier.TIER_FRONT_OFFICE : conv.tier;
    const reason: Reason = { code, text: `moved to the ${queueName(tier, m[2]!, conv.channel)} queue`, rule: '', targetStep: 0, eligibleAgents: 0, whyChosen: '' };
    this.emit(conv, reason, { $case: 'transferred', transferred: { fromAgentId: from?.id ?? '', toAgentId: '', toQueue: queueName(tier, m[2]!, conv.channel), note } });
    if (tier === Tier.TIER_EXPERT && conv.tier === Tier.TIER_FRONT_OFFICE && from) conv.tier1AgentId = from.id;
    conv.tier = tier;
    conv.escalated = tier === Tier.TIER_EXPERT;
    conv.skill = m[2]!;
    conv.escalationNote = note || conv.escalationNote;
    conv.declinedBy = [];
    conv.state = 'queued';
    this.enqueue(conv, false, reason);
    if (from) this.pullFor(from);
  }

  private stopSla(conv: ConversationRecord, now: number): void {
    if (conv.slaState === 'stopped' || conv.slaState === 'breached') {
      conv.slaState = 'stopped';
      return;
    }
    conv.slaState = 'stopped';
    const target = this.policy.slaTargetMs[conv.channel];
    const elapsed = now - conv.createdAt;
    push(this.queueMetrics(conv.queue).sla, elapsed <= target);
    this.sla(conv, SlaEventKind.SLA_EVENT_KIND_MET, elapsed);
  }

  private sla(conv: ConversationRecord, kind: SlaEventKind, elapsed: number): void {
    this.dirtyConversations.add(conv.id);
    this.out.push({
      type: 'sla',
      event: SlaEvent.fromPartial({
        eventId: `${conv.id}/sla/${kind}`,
        conversationId: conv.id,
        channel: CHANNEL_ENUM[conv.channel],
        queue: conv.queue,
        kind,
        targetMs: this.policy.slaTargetMs[conv.channel],
        elapsedMs: elapsed,
        occurredAt: new Date(this.clock.now()),
        risk: conv.classification.risk,
      }),
    });
  }

  private fire(t: Timer, now: number): void {
    if (t.kind === 'wrap_up') {
      const agent = this.agents.get(t.id);
      if (!agent || agent.presence !== Presence.PRESENCE_WRAP_UP || agent.wrapUpUntil !== t.at) return;
      agent.presence = Presence.PRESENCE_AVAILABLE;
      agent.wrapUpUntil = 0;
      if (agent.active.length === 0) agent.idleSince = now;
      this.agentChanged(agent);
      this.pullFor(agent);
      return;
    }
    const conv = this.conversations.get(t.id);
    if (!conv) return;
    switch (t.kind) {
      case 'offer':
        if (conv.state === 'offered' && t.version === conv.offerSeq) this.offerEnded(conv, this.agent(conv.agentId), true);
        return;
      case 'step':
        if (conv.state !== 'queued') return;
        if (t.version !== conv.stepSeq) return;
        if (conv.stepIndex < conv.steps.length - 1) {
          conv.stepIndex++;
          conv.stepSince = t.at;
          this.dirtyConversations.add(conv.id);
          this.scheduleStep(conv);
        }
        this.tryAssign(conv, now);
        return;
      case 'sla_warning':
        if (conv.slaState !== 'running' || conv.state === 'resolved' || conv.state === 'abandoned') return;
        conv.slaState = 'warned';
        this.sla(conv, SlaEventKind.SLA_EVENT_KIND_WARNING, t.at - conv.createdAt);
        return;
      case 'sla_breach':
        if (conv.slaState === 'stopped' || conv.slaState === 'breached' || conv.state === 'resolved' || conv.state === 'abandoned') return;
        conv.slaState = 'breached';
        push(this.queueMetrics(conv.queue).sla, false);
        this.sla(conv, SlaEventKind.SLA_EVENT_KIND_BREACH, t.at - conv.createdAt);
        if (conv.classification.risk === RiskLevel.RISK_LEVEL_HIGH && conv.tier === Tier.TIER_FRONT_OFFICE && conv.state === 'queued') {
          this.leaveQueue(conv);
          this.moveToExperts(conv, '', '', conv.skill, true, { code: 'rule.sla_breach_high_risk', text: 'first-response target breached on a high-risk conversation', rule: 'sla-breach-high-risk', targetStep: 0, eligibleAgents: 0, whyChosen: '' });
        }
        return;
    }
  }

  private startWrapUp(agent: AgentRecord, now: number): void {
    if (this.policy.wrapUpMs <= 0) return;
    agent.wrapUpUntil = now + this.policy.wrapUpMs;
    this.timers.push({ at: agent.wrapUpUntil, kind: 'wrap_up', id: agent.id, version: 0 });
  }

  /** Agents logged in who serve this queue. */
  private staffedAgents(queue: string): number {
    const cached = this.staffingCache.get(queue);
    if (cached !== undefined) return cached;
    const [tierPart, skill] = queue.split('/') as [string, string];
    const tier = tierPart === 'tier2' ? Tier.TIER_EXPERT : Tier.TIER_FRONT_OFFICE;
    let n = 0;
    for (const id of this.bySkill.get(`${tier}/${skill}`) ?? []) if (ACTIVE_PRESENCE.has(this.agents.get(id)!.presence)) n++;
    this.staffingCache.set(queue, n);
    return n;
  }

  /**
   * Wait for position `position`: with every slot busy, one frees on average every
   * handle time / slots; the p-th in line waits about p of those intervals.
   */
  private estimate(queue: string, channel: ChannelName, position: number): { estimatedWaitMs: number; fromTarget: boolean } {
    const staffed = this.staffedAgents(queue);
    if (staffed === 0) return { estimatedWaitMs: this.policy.slaTargetMs[channel], fromTarget: true };
    const m = this.queueMetrics(queue);
    const aht = m.handleMs.length ? mean(m.handleMs) : this.policy.defaultHandleMs[channel];
    const slots = staffed * Math.max(1, Math.min(this.policy.capacityDefaults[channel], this.policy.totalCapacityDefault));
    return { estimatedWaitMs: Math.round((position * aht) / slots), fromTarget: m.handleMs.length === 0 };
  }
}

function stepCode(step: number): string {
  return ['queue', 'account_manager', 'last_agent', 'skilled', 'any_level', 'whole_tier'][step] ?? 'queue';
}

function stepName(step: number): string {
  return (
    ['from the queue', 'step 1: the account manager', 'step 2: the agent who last served this customer', 'step 3: skilled agents speaking the language', 'step 4: agents with the skill at any level', 'step 5: any agent of the tier'][step] ??
    'from the queue'
  );
}

function formatWait(ms: number): string {
  if (ms < 90_000) return `${Math.max(1, Math.round(ms / 1000))} seconds`;
  if (ms < 90 * 60_000) return `${Math.round(ms / 60_000)} minutes`;
  return `${Math.round(ms / 3600_000)} hours`;
}

