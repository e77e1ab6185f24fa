// Who may read which customer. Pure rules, no I/O: the conversation-access projection feeds
// them what routing's events said, the API asks them before every read.
//
// - agents and experts read only the customer of a conversation offered to, assigned to or
//   held by them, while it is theirs and for `windowMs` after it stopped being theirs (declined,
//   transferred away, escalated, handed back, resolved, abandoned);
// - supervisors and ops read any customer with a reason, which is audited;
// - a service reads only with the calls granted to it by name (SERVICE_GRANTS in authz.ts).
import type { Caller } from '#libs/auth';
import type { ConversationEvent } from '#libs/proto';
import { InvalidArgumentError, PermissionDeniedError } from '#libs/service/grpc-errors';

/** One person's part in a conversation; releasedAt is null while it is theirs. */
export interface AccessGrant {
  personId: string;
  since: Date;
  releasedAt: Date | null;
}

export interface ConversationAccess {
  _id: string;
  people: AccessGrant[];
  /** Event ids already applied, so a replayed event changes nothing. */
  eventIds: string[];
  endedAt: Date | null;
}

/** Why a read is refused; `mayCatchUp` when the projection may not have seen the offer yet. */
export class ReadRefusedError extends PermissionDeniedError {
  constructor(
    message: string,
    readonly mayCatchUp = false,
  ) {
    super(message);
    this.name = 'ReadRefusedError';
  }
}

/** A request that cannot be judged: a missing conversation id or reason. */
export class ReadRequestError extends InvalidArgumentError {
  constructor(message: string) {
    super(message);
    this.name = 'ReadRequestError';
  }
}

const MAX_EVENT_IDS = 200;

export function emptyAccess(conversationId: string): ConversationAccess {
  return { _id: conversationId, people: [], eventIds: [], endedAt: null };
}

function grant(a: ConversationAccess, personId: string, at: Date): void {
  if (!personId) return;
  const g = a.people.find((p) => p.personId === personId);
  if (g) g.releasedAt = null;
  else a.people.push({ personId, since: at, releasedAt: null });
}

function release(a: ConversationAccess, personId: string, at: Date): void {
  const g = a.people.find((p) => p.personId === personId);
  if (g && !g.releasedAt) g.releasedAt = at;
}

/** Applies one conversation event; returns null when it changes nothing (not about people, or seen). */
export function applyEvent(current: ConversationAccess, e: ConversationEvent): ConversationAccess | null {
  if (current.eventIds.includes(e.eventId)) return null;
  const at = e.occurredAt ?? new Date();
  const a: ConversationAccess = { ...current, people: current.people.map((p) => ({ ...p })), eventIds: [...current.eventIds] };
  const step = e.step;
  switch (step?.$case) {
    case 'offered':
      grant(a, step.offered.agentId, at);
      break;
    case 'assigned':
      grant(a, step.assigned.agentId, at);
      break;
    case 'offerDeclined':
      release(a, step.offerDeclined.agentId, at);
      break;
    case 'transferred':
      release(a, step.transferred.fromAgentId, at);
      grant(a, step.transferred.toAgentId, at);
      break;
    case 'escalated':
      release(a, step.escalated.fromAgentId, at);
      break;
    case 'handedBack':
      release(a, step.handedBack.expertAgentId, at);
      break;
    case 'requeued':
      release(a, step.requeued.previousAgentId, at);
      break;
    case 'resolved':
    case 'abandoned':
      for (const p of a.people) p.releasedAt ??= at;
      a.endedAt = at;
      break;
    default:
      return null;
  }
  // A conversation someone takes again after its end (a reopened thread) is open again.
  if (a.endedAt && a.people.some((p) => !p.releasedAt)) a.endedAt = null;
  a.eventIds.push(e.eventId);
  if (a.eventIds.length > MAX_EVENT_IDS) a.eventIds.splice(0, a.eventIds.length - MAX_EVENT_IDS);
  return a;
}

export interface ReadRequest {
  caller: Caller;
  conversationId: string;
  reason: string;
}

const REASON_MAX = 500;

/** Checks the request's shape for the caller's role before anything is read. */
export function checkReadRequest(r: ReadRequest): void {
  const { role } = r.caller;
  if ((role === 'agent' || role === 'expert') && !r.conversationId)
    throw new ReadRequestError(`conversation_id is required: an ${role} reads only the customer of a conversation offered to or held by them`);
  if (role === 'supervisor' || role === 'ops') {
    const reason = r.reason.trim();
    if (!reason) throw new ReadRequestError('reason is required: a supervisor or ops reading a customer says why, and the reason is audited');
    if (reason.length < 3) throw new ReadRequestError('reason is too short: say in a few words why you read this customer');
  }
  if (r.reason.length > REASON_MAX) throw new ReadRequestError(`reason is longer than ${REASON_MAX} characters`);
  if (/[\u0000-\u001f\u007f]/.test(r.reason)) throw new ReadRequestError('reason must be plain text on one line');
}

/** True when a person's part in the conversation lets them read its customer at `now`. */
export function holds(access: ConversationAccess | null, personId: string, now: Date, windowMs: number): boolean {
  const g = access?.people.find((p) => p.personId === personId);
  if (!g) return false;
  return !g.releasedAt || now.getTime() - g.releasedAt.getTime() <= windowMs;
}

export interface PersonRead {
  personId: string;
  conversationId: string;
  access: ConversationAccess | null;
  /** The live customer of the conversation, null while the conversation's contact is not projected. */
  conversationCustomerId: string | null;
  /** The live customer asked for, null when the request named none (then the conversation's). */
  askedCustomerId: string | null;
  now: Date;
  windowMs: number;
}

/** An agent's or expert's read: throws ReadRefusedError, or returns the customer they may read. */
export function decidePersonRead(r: PersonRead): string {
  const g = r.access?.people.find((p) => p.personId === r.personId);
  if (!g) throw new ReadRefusedError(`conversation ${r.conversationId} was not offered to or held by ${r.personId}`, true);
  if (!holds(r.access, r.personId, r.now, r.windowMs))
    throw new ReadRefusedError(`conversation ${r.conversationId} stopped being ${r.personId}'s more than ${Math.round(r.windowMs / 3_600_000)} h ago`);
  if (!r.conversationCustomerId) throw new ReadRefusedError(`the customer of conversation ${r.conversationId} is not known yet`, true);
  if (r.askedCustomerId && r.askedCustomerId !== r.conversationCustomerId)
    throw new ReadRefusedError(`the customer asked for is not the customer of conversation ${r.conversationId}`);
  return r.conversationCustomerId;
}
