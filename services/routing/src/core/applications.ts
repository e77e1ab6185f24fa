// What an application with an API key may do to a conversation, through the integration API.
// An application is neither an agent nor a supervisor: it acts as itself (the author
// `api:<application>`), and only on its own conversations (its API channel threads, and the
// ones it started) for replies, resolution and transfer. A note, which no customer ever sees,
// may go on any conversation. A request id makes a retry answer the first result.
import { CHANNEL_ENUM } from '#libs/contact';
import { OutboundKind } from '#libs/proto';
import { type Core, conversationOf } from './context';
import { sendSurvey } from './actions';
import { pullFor } from './dispatch';
import { type MoveTarget, moveTo } from './moves';
import { release } from './offers';
import { type ConversationRecord, RoutingError } from './records';
import { reason } from './reasons';
import { pushBounded } from './rings';
import { stopSla } from './sla';
import { keptOnResolve } from './promises';

/** How an application is named where an agent id would be (author of replies, notes, resolutions). */
export const authorOf = (application: string): string => `api:${application}`;

/** True when the conversation is the application's: an API thread of its own, or one it started. */
function ownedBy(conv: ConversationRecord, application: string): boolean {
  return conv.startedBy === application || (conv.channel === 'api' && conv.channelMetadata.application === application);
}

const isEnded = (conv: ConversationRecord) => conv.state === 'resolved' || conv.state === 'abandoned';

function ownConversation(core: Core, application: string, conversationId: string): ConversationRecord {
  const conv = conversationOf(core, conversationId);
  if (!ownedBy(conv, application))
    throw new RoutingError('PERMISSION_DENIED', `conversation ${conversationId} is neither an API conversation of ${application} nor one it started`);
  return conv;
}

function openOwnConversation(core: Core, application: string, conversationId: string): ConversationRecord {
  const conv = ownConversation(core, application, conversationId);
  if (isEnded(conv)) throw new RoutingError('FAILED_PRECONDITION', `conversation ${conversationId} is ${conv.state}`);
  return conv;
}

/** The result of an earlier request with this id on this conversation, if there was one. */
function earlier(conv: ConversationRecord, requestId: string): string | undefined {
  if (!requestId) return undefined;
  const prefix = `${requestId} `;
  return conv.apiRequests?.find((r) => r.startsWith(prefix))?.slice(prefix.length);
}

export function remember(conv: ConversationRecord, requestId: string, result: string): void {
  if (!requestId) return;
  conv.apiRequests ??= [];
  pushBounded(conv.apiRequests, `${requestId} ${result}`, 50);
}

export function checkText(text: string, what: string, max: number): void {
  if (!text.trim()) throw new RoutingError('INVALID_ARGUMENT', `${what} is empty`);
  if (text.length > max) throw new RoutingError('INVALID_ARGUMENT', `${what} is longer than ${max.toLocaleString('en')} characters`);
}

/** The application's message to the customer on the conversation's channel; returns the outbound message id. */
export function applicationReply(core: Core, a: { application: string; conversationId: string; text: string; subject: string; requestId: string }): string {
  const conv = openOwnConversation(core, a.application, a.conversationId);
  const known = earlier(conv, a.requestId);
  if (known) return known;
  checkText(a.text, 'text', 20_000);
  const author = authorOf(a.application);
  const subject = a.subject || (conv.subject && conv.channel === 'email' ? `Re: ${conv.subject}` : '');
  const message = core.out.outbound(conv, OutboundKind.OUTBOUND_KIND_REPLY, a.text, author, subject);
  core.out.event(conv, reason('api.replied', `${author} replied`), {
    $case: 'replied',
    replied: { agentId: author, outboundMessageId: message.messageId, text: a.text, attachments: [] },
  });
  // On a written channel the first reply is the first response, whoever writes it.
  if (conv.state !== 'awaiting-customer' && conv.channel !== 'voice' && conv.channel !== 'chat') stopSla(core, conv, core.clock.now());
  remember(conv, a.requestId, message.messageId);
  return message.messageId;
}

/** An internal note on any conversation; returns the id of the event that carries it. */
export function addNote(core: Core, a: { application: string; conversationId: string; text: string; requestId: string }): string {
  const conv = conversationOf(core, a.conversationId);
  const known = earlier(conv, a.requestId);
  if (known) return known;
  checkText(a.text, 'note', 5000);
  const author = authorOf(a.application);
  const note = { author, text: a.text };
  const id = core.out.event(conv, reason('api.noted', `${author} added a note`), { $case: 'noteAdded', noteAdded: note });
  // The agent holding it sees the note at once, as they see the customer's messages.
  if (conv.agentId && conv.state === 'assigned') {
    core.out.notify(conv.agentId, {
      $case: 'noted',
      noted: { conversationId: conv.id, eventId: id, addedAt: new Date(core.clock.now()), note, channel: CHANNEL_ENUM[conv.channel] },
    });
  }
  remember(conv, a.requestId, id);
  return id;
}

/** Ends the application's conversation wherever it is: waiting, offered, with an agent, or awaiting the customer. */
export function applicationResolve(core: Core, a: { application: string; conversationId: string; disposition: string }): void {
  const conv = openOwnConversation(core, a.application, a.conversationId);
  if (a.disposition.length > 200) throw new RoutingError('INVALID_ARGUMENT', 'disposition is longer than 200 characters');
  const now = core.clock.now();
  const author = authorOf(a.application);
  const agent = (conv.state === 'offered' || conv.state === 'assigned') && conv.agentId ? core.agents.get(conv.agentId) : undefined;
  // Only a customer an agent served is asked how it went; an application's own thread has nobody to ask.
  const servedBy = conv.state === 'assigned' && conv.channel !== 'api' ? conv.agentId : '';
  if (conv.state === 'queued') core.waiting.leave(conv);
  if (agent) {
    if (conv.state === 'assigned') core.stats.handled(conv.queue, now - conv.assignedAt);
    release(core, conv, agent);
    core.out.revoked(agent.id, conv.id, reason('api.resolved', `resolved by ${author}`));
  }
  if (conv.slaState !== 'stopped') stopSla(core, conv, now);
  conv.state = 'resolved';
  conv.agentId = '';
  core.out.event(conv, reason('api.resolved', `resolved by ${author}: ${a.disposition || 'no disposition'}`), {
    $case: 'resolved',
    resolved: { agentId: author, disposition: a.disposition },
  });
  keptOnResolve(core, conv);
  if (servedBy) sendSurvey(core, conv, servedBy);
  if (agent) pullFor(core, agent);
}

/** Moves the application's conversation to a queue or an agent, as a supervisor's reassignment moves it. */
export function applicationTransfer(core: Core, a: { application: string; conversationId: string; target: MoveTarget }): void {
  const conv = openOwnConversation(core, a.application, a.conversationId);
  if (a.target.toAgentId && !core.agents.records.has(a.target.toAgentId)) throw new RoutingError('NOT_FOUND', `agent ${a.target.toAgentId} is unknown`);
  const from = (conv.state === 'offered' || conv.state === 'assigned') && conv.agentId ? core.agents.get(conv.agentId) : undefined;
  moveTo(core, conv, from, a.target, 'api.transferred');
}
