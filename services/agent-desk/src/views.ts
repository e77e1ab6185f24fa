// Shapes what routing and customer-record return into what the desk's screens show. Plain
// data in, plain JSON out: the browser only puts these strings into the page as text.
import { channelName, customerFlagName, flagsOn, type ChannelName, type CustomerFlagName } from '#libs/contact';
import { callbackLine } from './callback-views';
import { onBehalfLine, representativeLines } from './on-behalf-views';
import {
  type Channel,
  ConversationSender,
  FlagSource,
  HistoryEntryKind,
  IdentityKind,
  Presence,
  SenderVerdict,
  Tier,
  type AgentState,
  type Attachment,
  type ContactReceived,
  type ConversationNoted,
  type ConversationOffer,
  type GetCustomerContextResponse,
  type HistoryEntry,
  type LowScoreFollowUp,
  type QueueStats,
} from '#libs/proto';
import { recordingOf, type RecordingView } from './recording-views';

/** A channel on screen: its name, or 'unknown' for one this build does not know. */
export type ShownChannel = ChannelName | 'unknown';

function shownChannel(channel: Channel): ShownChannel {
  return channelName(channel) ?? 'unknown';
}

export type BadgeKind = CustomerFlagName;
export interface Badge {
  kind: BadgeKind;
  label: string;
}

const BADGE_LABELS: Record<BadgeKind, string> = { institutional: 'Institutional', vip: 'VIP', regular: 'Regular customer' };
const BADGE_ORDER: BadgeKind[] = ['institutional', 'vip', 'regular'];

/** Badges in a fixed order (most important first), each once; unknown flags are left out. */
export function badges(flags: readonly string[]): Badge[] {
  const given = new Set(flags.map((f) => f.toLowerCase()));
  return BADGE_ORDER.filter((k) => given.has(k)).map((kind) => ({ kind, label: BADGE_LABELS[kind] }));
}

export interface OfferView {
  conversationId: string;
  channel: ShownChannel;
  customerId: string;
  customerName: string;
  badges: Badge[];
  subject: string;
  /** Epoch ms; 0 when the conversation is already assigned. */
  expiresAt: number;
  escalationNote: string;
  escalated: boolean;
  why: string;
  /** How the customer reached us: the desk looks the customer up by it while customerId is empty. */
  identity: { kind: number; value: string; namespace: string } | null;
  /** For a callback the agent will dial out: whom (masked), when it was asked and promised; empty otherwise. */
  callback: string;
}

export function offerView(offer: ConversationOffer): OfferView {
  return {
    conversationId: offer.conversationId,
    channel: shownChannel(offer.channel),
    customerId: offer.customerId,
    customerName: offer.customerName || 'Unknown customer',
    badges: badges(offer.badges),
    subject: offer.subject,
    expiresAt: offer.expiresAt ? offer.expiresAt.getTime() : 0,
    escalationNote: offer.escalationNote,
    escalated: Boolean(offer.escalationNote) || offer.reason?.code === 'agent.escalated',
    why: offer.reason?.text ?? '',
    identity: offer.customerIdentity?.value
      ? { kind: offer.customerIdentity.kind, value: offer.customerIdentity.value, namespace: offer.customerIdentity.namespace }
      : null,
    callback: callbackLine(offer.callback),
  };
}

/** Whole seconds left on an offer, never below zero. */
export function secondsLeft(expiresAt: number, now: number): number {
  return Math.max(0, Math.ceil((expiresAt - now) / 1000));
}

export interface AttachmentView {
  name: string;
  contentType: string;
  size: string;
  /** Where the channel keeps it; the page links `/api/attachment` with it. Empty when not kept. */
  ref: string;
}

function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

function attachmentView(a: Attachment): AttachmentView {
  return {
    name: a.name || '(no name)',
    contentType: a.contentType || 'application/octet-stream',
    size: formatBytes(Number(a.sizeBytes)),
    ref: /^(email|chat)-attachment:[0-9a-f]{64}$/.test(a.storageRef) ? a.storageRef : '',
  };
}

export type TimelineKind = 'in' | 'out' | 'event';

export interface TimelineItem {
  /** The history entry id; live messages use the same id, so they are never shown twice. */
  id: string;
  kind: TimelineKind;
  channel: ShownChannel;
  at: number;
  subject: string;
  text: string;
  detail: string;
  agentId: string;
  attachments: AttachmentView[];
  /** Why the agent should not take the sender at their word; empty when nothing is known against it. */
  senderWarning: string;
  /** Who made the contact for the customer and with what authority, or who only said so; empty for the customer's own. */
  onBehalf: string;
  /** A recorded call's entry, given only to those who may hear it: the page shows a player. */
  recording?: RecordingView;
}

/**
 * The email channel's marks on who wrote, in words. Anyone who knows a conversation's reference
 * can write into it, and a From address can be forged: the agent sees both before answering.
 */
export function senderWarning(c: Pick<ContactReceived, 'senderAuthentication' | 'conversationSender'>): string {
  const forged = c.senderAuthentication?.verdict === SenderVerdict.SENDER_VERDICT_FAIL;
  switch (c.conversationSender?.result) {
    case ConversationSender.CONVERSATION_SENDER_OTHER:
      return "Sender differs from the conversation's customer: not verified";
    case ConversationSender.CONVERSATION_SENDER_CUSTOMER_UNVERIFIED:
      return forged
        ? "Sender not verified: the customer's address, but its domain's authentication failed (it may be forged)"
        : "Sender not verified: the customer's address, but it could not be authenticated";
    default:
      return forged ? "Sender's address failed authentication (SPF/DKIM/DMARC): it may be forged" : '';
  }
}

const EVENT_WORDS: Partial<Record<HistoryEntryKind, string>> = {
  [HistoryEntryKind.HISTORY_ENTRY_KIND_QUEUED]: 'Queued',
  [HistoryEntryKind.HISTORY_ENTRY_KIND_ASSIGNED]: 'Assigned',
  [HistoryEntryKind.HISTORY_ENTRY_KIND_ESCALATED]: 'Escalated',
  [HistoryEntryKind.HISTORY_ENTRY_KIND_TRANSFERRED]: 'Transferred',
  [HistoryEntryKind.HISTORY_ENTRY_KIND_RESOLVED]: 'Resolved',
  [HistoryEntryKind.HISTORY_ENTRY_KIND_ABANDONED]: 'Abandoned',
  [HistoryEntryKind.HISTORY_ENTRY_KIND_SURVEY_ANSWERED]: 'Survey answered',
};

export function historyItem(e: HistoryEntry): TimelineItem {
  const kind: TimelineKind =
    e.kind === HistoryEntryKind.HISTORY_ENTRY_KIND_MESSAGE_IN ? 'in' : e.kind === HistoryEntryKind.HISTORY_ENTRY_KIND_MESSAGE_OUT ? 'out' : 'event';
  const word = EVENT_WORDS[e.kind];
  return {
    id: e.entryId,
    kind,
    channel: shownChannel(e.channel),
    at: e.occurredAt ? e.occurredAt.getTime() : 0,
    subject: e.subject,
    text: e.text,
    detail: kind === 'event' && word ? [word, e.detail].filter(Boolean).join(': ') : e.detail,
    agentId: e.agentId,
    attachments: e.attachments.map(attachmentView),
    senderWarning: '',
    onBehalf: onBehalfLine(e.onBehalf),
    ...recordingField(e.text),
  };
}

function recordingField(text: string): { recording?: RecordingView } {
  const recording = recordingOf(text);
  return recording ? { recording } : {};
}

/** A customer's message pushed by routing while the agent holds the conversation. */
export function contactItem(c: ContactReceived): TimelineItem {
  return {
    id: `contact:${c.contactId}`,
    kind: 'in',
    channel: shownChannel(c.channel),
    at: c.receivedAt ? c.receivedAt.getTime() : 0,
    subject: c.subject,
    text: c.text,
    detail: '',
    agentId: '',
    attachments: c.attachments.map(attachmentView),
    senderWarning: senderWarning(c),
    // Whether a mandate covers it is customer-record's to say: the history entry carries that.
    onBehalf: '',
  };
}

/** An application's note pushed by routing: the same item as its history entry (`event:<id>`), so it is kept once. */
export function noteItem(n: ConversationNoted): TimelineItem {
  return {
    id: `event:${n.eventId}`,
    kind: 'event',
    channel: shownChannel(n.channel),
    at: n.addedAt ? n.addedAt.getTime() : 0,
    subject: '',
    text: n.note?.text ?? '',
    detail: 'internal note',
    agentId: n.note?.author ?? '',
    attachments: [],
    senderWarning: '',
    onBehalf: '',
  };
}

/**
 * Every entry of the conversation, oldest first. History comes newest first and may be
 * joined by live messages: entries with the same id are kept once, the richer one winning
 * (a live message carries its attachments, the history entry does not).
 */
export function timeline(entries: readonly TimelineItem[]): TimelineItem[] {
  const byId = new Map<string, TimelineItem>();
  for (const item of entries) {
    const seen = byId.get(item.id);
    if (!seen || item.attachments.length > seen.attachments.length) byId.set(item.id, item);
  }
  return [...byId.values()].sort((a, b) => a.at - b.at || a.id.localeCompare(b.id));
}

export interface CustomerCard {
  customerId: string;
  name: string;
  /** Set when the name is only what a chat visitor typed (no other identity vouches for it). */
  nameNote: string;
  /** Identities a channel authenticated, a code proved or staff linked. */
  identities: { kind: string; value: string; verified: true; label: string }[];
  /** What the customer only said about themselves: never the record of whoever that names. */
  claims: { kind: string; value: string; verified: false; label: string }[];
  flags: { kind: BadgeKind; label: string; on: boolean; reason: string; source: string }[];
  badges: Badge[];
  account: { id: string; name: string; managerAgentId: string; vip: boolean; institutional: boolean } | null;
  /** Intermediaries that may speak for the customer, with their authority. */
  representatives: { intermediaryId: string; label: string }[];
  recent: { conversationId: string; channel: ShownChannel; subject: string; startedAt: number; status: string; lastAgentId: string; messageCount: number }[];
  conversationsLast90Days: number;
}

const IDENTITY_WORDS: Record<IdentityKind, string> = {
  [IdentityKind.IDENTITY_KIND_UNSPECIFIED]: 'id',
  [IdentityKind.IDENTITY_KIND_EMAIL]: 'email',
  [IdentityKind.IDENTITY_KIND_PHONE]: 'phone',
  [IdentityKind.IDENTITY_KIND_CHAT_VISITOR]: 'chat visitor',
  [IdentityKind.IDENTITY_KIND_OTHER]: 'other',
  [IdentityKind.UNRECOGNIZED]: 'id',
};

const FLAG_SOURCES: Partial<Record<FlagSource, string>> = {
  [FlagSource.FLAG_SOURCE_RULE]: 'rule',
  [FlagSource.FLAG_SOURCE_SUPERVISOR]: 'supervisor',
  [FlagSource.FLAG_SOURCE_ACCOUNT]: 'account',
};

/** How a claim reads on the card; the page sets it as text, so markup in it stays text. */
function claimLabel(value: string): string {
  return `says they are ${value.replace(/[\u0000-\u001F\u007F]/g, '').slice(0, 254)} (not verified)`;
}

export function customerCard(ctx: GetCustomerContextResponse): CustomerCard | null {
  const c = ctx.customer;
  if (!c) return null;
  const flags = c.flags.flatMap((f) => {
    const kind = customerFlagName(f.kind);
    return kind ? [{ kind, label: BADGE_LABELS[kind], on: f.on, reason: f.reason, source: FLAG_SOURCES[f.source] ?? '' }] : [];
  });
  return {
    customerId: c.customerId,
    name: c.displayName || 'Unknown customer',
    nameNote:
      c.displayName && c.identities.length > 0 && c.identities.every((i) => i.kind === IdentityKind.IDENTITY_KIND_CHAT_VISITOR)
        ? 'name as typed in the chat (not verified)'
        : '',
    identities: c.identities.map((i) => {
      const kind = IDENTITY_WORDS[i.kind] ?? 'id';
      const value = i.kind === IdentityKind.IDENTITY_KIND_OTHER && i.namespace ? `${i.namespace}/${i.value}` : i.value;
      return { kind, value, verified: true as const, label: `${kind}: ${value} (verified)` };
    }),
    claims: (c.claimedIdentities ?? []).map((i) => ({
      kind: IDENTITY_WORDS[i.kind] ?? 'id',
      value: i.value,
      verified: false as const,
      label: claimLabel(i.value),
    })),
    flags,
    badges: badges(flagsOn(ctx)),
    account: ctx.account
      ? {
          id: ctx.account.accountId,
          name: ctx.account.name,
          managerAgentId: ctx.account.managerAgentId,
          vip: ctx.account.vip,
          institutional: ctx.account.institutional,
        }
      : null,
    representatives: representativeLines(c.representatives ?? []),
    recent: ctx.recentConversations.map((r) => ({
      conversationId: r.conversationId,
      channel: shownChannel(r.channel),
      subject: r.subject,
      startedAt: r.startedAt ? r.startedAt.getTime() : 0,
      status: r.status,
      lastAgentId: r.lastAgentId,
      messageCount: r.messageCount,
    })),
    conversationsLast90Days: ctx.conversationsLast90Days,
  };
}

export type PresenceName = 'offline' | 'available' | 'away' | 'busy' | 'wrap-up' | 'unknown';

function presenceName(p: Presence): PresenceName {
  switch (p) {
    case Presence.PRESENCE_OFFLINE:
      return 'offline';
    case Presence.PRESENCE_AVAILABLE:
      return 'available';
    case Presence.PRESENCE_AWAY:
      return 'away';
    case Presence.PRESENCE_BUSY:
      return 'busy';
    case Presence.PRESENCE_WRAP_UP:
      return 'wrap-up';
    default:
      return 'unknown';
  }
}

export function presenceValue(name: 'available' | 'away' | 'offline'): Presence {
  return { available: Presence.PRESENCE_AVAILABLE, away: Presence.PRESENCE_AWAY, offline: Presence.PRESENCE_OFFLINE }[name];
}

export interface AgentRow {
  agentId: string;
  name: string;
  tier: 1 | 2;
  presence: PresenceName;
  /** Conversations held over total capacity. */
  active: number;
  capacity: number;
  load: { channel: ShownChannel; active: number; capacity: number }[];
  skills: string[];
}

export function agentRow(a: AgentState): AgentRow {
  const load = a.load.map((l) => ({ channel: shownChannel(l.channel), active: l.active, capacity: l.capacity }));
  return {
    agentId: a.agentId,
    name: a.name || a.agentId,
    tier: a.tier === Tier.TIER_EXPERT ? 2 : 1,
    presence: presenceName(a.presence),
    active: load.reduce((n, l) => n + l.active, 0),
    capacity: a.totalCapacity,
    load,
    skills: a.skills.map((s) => `${s.name}:${s.level}`),
  };
}

export interface QueueRow {
  queue: string;
  channel: ShownChannel;
  tier: 1 | 2;
  waiting: number;
  oldestWait: string;
  /** Whole percent, or null while nothing was measured. */
  serviceLevel: number;
  estimatedWait: string;
  agentsStaffed: number;
  agentsNeeded: number;
}

/** "45 s", "3 min", "1 h 5 min": short enough for a table cell. */
export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  const m = Math.round(s / 60);
  if (m < 60) return `${m} min`;
  return `${Math.floor(m / 60)} h${m % 60 ? ` ${m % 60} min` : ''}`;
}

function queueRow(q: QueueStats): QueueRow {
  return {
    queue: q.queue,
    channel: shownChannel(q.channel),
    tier: q.tier === Tier.TIER_EXPERT ? 2 : 1,
    waiting: q.waiting,
    oldestWait: formatDuration(Number(q.oldestWaitMs)),
    serviceLevel: Math.round(q.serviceLevel * 100),
    estimatedWait: formatDuration(Number(q.estimatedWaitMs)),
    agentsStaffed: q.agentsStaffed,
    agentsNeeded: q.agentsNeeded,
  };
}

/** Busiest queues first, then by name, so the supervisor's eye lands on what needs help. */
export function queueTable(queues: readonly QueueStats[]): QueueRow[] {
  return queues.map(queueRow).sort((a, b) => b.waiting - a.waiting || a.queue.localeCompare(b.queue));
}

/** A low survey score on the floor view: which conversation, its score, who served it and where. */
export interface FollowUpRow {
  conversationId: string;
  reference: string;
  channel: ShownChannel;
  queue: string;
  agentId: string;
  score: number;
  answeredAt: string;
}

export function followUpRow(f: LowScoreFollowUp): FollowUpRow {
  return {
    conversationId: f.conversationId,
    reference: f.reference,
    channel: shownChannel(f.channel),
    queue: f.queue,
    agentId: f.agentId,
    score: f.score,
    answeredAt: f.answeredAt ? f.answeredAt.toISOString() : '',
  };
}
