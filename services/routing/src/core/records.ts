// The routing core's public types and the records it keeps. Records are plain data: the
// adapters snapshot them as JSON and hand them back to `restore`, so their shapes are a
// storage format and change only compatibly.
import type { ChannelName, CustomerFlagName } from '#libs/contact';
import type { AgentState, ConversationEvent, Identity, OutboundMessage, Presence, SlaEvent, Tier, WatchAssignmentsResponse } from '#libs/proto';
import { CallError } from '#libs/service/grpc-errors';
import type { Calendar } from '#libs/calendars';
import type { Classification } from './classify';

export interface Clock {
  now(): number;
}

/** What a decision produced, for the adapters to publish and deliver. */
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
  /** The calendars were replaced. */
  calendars?: boolean;
}

/** A command the core refuses, with the status its call ends with. */
export class RoutingError extends CallError {
  override name = 'RoutingError';
  constructor(
    readonly grpcStatus: 'NOT_FOUND' | 'INVALID_ARGUMENT' | 'FAILED_PRECONDITION' | 'PERMISSION_DENIED',
    message: string,
  ) {
    super(message);
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

/** `awaiting-customer`: the company wrote first (an application's StartConversation); the customer's answer queues it. */
export type ConversationState = 'new' | 'queued' | 'offered' | 'assigned' | 'awaiting-customer' | 'resolved' | 'abandoned';

/** What customer-record knows of the customer (empty without it). */
export interface CustomerInfo {
  customerId?: string;
  name?: string;
  flags?: CustomerFlagName[];
  accountManagerId?: string;
}

export interface ConversationRecord {
  id: string;
  channel: ChannelName;
  customerKey: string;
  customerId: string;
  customerName: string;
  flags: CustomerFlagName[];
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
  /** The target list as step numbers (see targets.ts), and where the conversation is on it. */
  steps: number[];
  stepIndex: number;
  stepSince: number;
  /** Versions that tell a live timer from a stale one (timers are never removed). */
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
  /** The application that started the conversation (company-initiated); absent for the others. */
  startedBy?: string;
  /** A person at the desk started it: the customer's answer goes to `skill`'s queue at their tier, offered to them first. */
  outreach?: { by: string; tier: Tier; skill: string; noticeId?: string };
  /** `<request id> <result id>` of an application's recent requests, so a retry is answered, not done again. */
  apiRequests?: string[];
  /** A survey score of 1 or 2, for the supervisor to follow up: the record is kept in the changelog while it is set. */
  lowScore?: { score: number; agentId: string; answeredAt: number };
  /** Set once the caller asked to be called back: the conversation keeps its place as a callback. */
  callback?: CallbackRecord;
  /** The promise on a long case (promises.ts): the next milestone and when it is expected. */
  promise?: PromiseRecord;
  /** The opening the customer was already told (the email acknowledgement's closed wording): routing's closed notice for it is not sent again. */
  toldClosedUntil?: number;
  /** Agents whose dial-in into this call failed: not offered it again. */
  unreachableAgents?: string[];
}

/**
 * A promise's life: `open` once set or updated; `warned` when its owner was warned before the
 * deadline; `slipped` when the deadline passed (the customer was told; a new date is up to the
 * owner); `kept` when marked done or the conversation was resolved.
 */
export type PromiseState = 'open' | 'warned' | 'slipped' | 'kept';

export interface PromiseRecord {
  state: PromiseState;
  milestone: string;
  dueAt: number;
  /** Minor units of `currency`; currency '' when no estimate was given. */
  costMinor: number;
  currency: string;
  ownerId: string;
  setBy: string;
  setAt: number;
  /** 1 for the first promise, +1 for each update: tells a live timer from a stale one. */
  version: number;
}

/**
 * A callback's life: `waiting` in the queue at the caller's place; `dialling` once an agent
 * accepted (the customer's phone rings); `connected` when they answered; `retry-wait` back in
 * the queue until the next attempt may be made; `gave-up` after the last unanswered attempt.
 */
export type CallbackState = 'waiting' | 'dialling' | 'connected' | 'retry-wait' | 'gave-up';

export interface CallbackRecord {
  state: CallbackState;
  /** The customer's number, E.164. */
  number: string;
  /** Attempts made so far (the one dialling included). */
  attempts: number;
  requestedAt: number;
  /** The wait promised when asked: compared with the real one when the customer answers. */
  promisedWaitMs: number;
  /** No attempt before this time (a retry's interval); 0 when none is pending. */
  notBefore: number;
  /** The queue's calendar zone when it was asked, in which its times are said; absent: UTC (no calendar, or an older record). */
  zone?: string;
}

/** The calendars a supervisor set, as the changelog keeps them. */
export interface CalendarsRecord {
  id: 'calendars';
  set: Record<string, Calendar>;
  changedBy: string;
  changedAt: number;
}

/** What a customer left behind: for "last agent" targeting and repeat-contact detection. */
export interface CustomerMemory {
  key: string;
  lastAgentId: string;
  lastAgentAt: number;
  resolved: { subjectKey: string; at: number; conversationId: string }[];
}
