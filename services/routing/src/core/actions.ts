// What happens to a conversation an agent holds, apart from moving it (moves.ts): replies,
// resolution; and the customer leaving before anyone answered.
import { OutboundKind, Tier, type Attachment } from '#libs/proto';
import { isLowScore, SURVEY_AGENT, SURVEY_QUEUE } from '#libs/survey';
import { assignedTo, type Core, conversationOf } from './context';
import { pullFor } from './dispatch';
import { rememberResolution, subjectKey } from './memory';
import { release } from './offers';
import { keptOnResolve } from './promises';
import { wrapUpAfterResolution } from './presence';
import { type ConversationRecord, RoutingError } from './records';
import { displayName, reason } from './reasons';
import { replyAttachments } from './reply-files';
import { stopSla } from './sla';

/** Sends the agent's reply to the customer, with the files it carries (email only); returns the outbound message id. */
export function reply(core: Core, agentId: string, conversationId: string, text: string, subject: string, attachments: readonly Attachment[] = []): string {
  const { conv } = assignedTo(core, agentId, conversationId);
  if (!text.trim()) throw new RoutingError('INVALID_ARGUMENT', 'reply text is empty');
  if (text.length > 20_000) throw new RoutingError('INVALID_ARGUMENT', 'reply text is longer than 20,000 characters');
  const files = replyAttachments(conv.channel, attachments);
  const now = core.clock.now();
  const message = core.out.outbound(
    conv,
    OutboundKind.OUTBOUND_KIND_REPLY,
    text,
    agentId,
    subject || (conv.subject && conv.channel === 'email' ? `Re: ${conv.subject}` : ''),
  );
  message.attachments = files;
  core.out.event(conv, reason('agent.replied', 'the agent replied'), {
    $case: 'replied',
    replied: { agentId, outboundMessageId: message.messageId, text, attachments: files.map((a) => ({ ...a })) },
  });
  // Written channels: the first reply is the first response.
  if (conv.channel === 'sms' || conv.channel === 'email') stopSla(core, conv, now);
  return message.messageId;
}

/** The satisfaction survey, on the conversation's channel, after an agent served the customer. */
export function sendSurvey(core: Core, conv: ConversationRecord, agentId: string): void {
  const survey = core.out.outbound(conv, OutboundKind.OUTBOUND_KIND_SURVEY, 'How did we do? Please rate this conversation from 1 (poor) to 5 (excellent).', '');
  // The channel that takes the answer names who served the customer and where, for the reports.
  // The message's metadata is its own copy (Outbox.outbound): the two keys are added to it.
  survey.channelMetadata[SURVEY_AGENT] = agentId;
  survey.channelMetadata[SURVEY_QUEUE] = conv.queue;
}

/** Done: the customer gets the survey, routing remembers who served them and on what. */
export function resolve(core: Core, agentId: string, conversationId: string, disposition: string): void {
  const { agent, conv } = assignedTo(core, agentId, conversationId);
  const now = core.clock.now();
  if (disposition.length > 200) throw new RoutingError('INVALID_ARGUMENT', 'disposition is longer than 200 characters');
  stopSla(core, conv, now);
  core.stats.handled(conv.queue, now - conv.assignedAt);
  release(core, conv, agent);
  conv.state = 'resolved';
  core.out.event(conv, reason('agent.resolved', `resolved by ${displayName(agent)}: ${disposition || 'no disposition'}`), {
    $case: 'resolved',
    resolved: { agentId, disposition },
  });
  keptOnResolve(core, conv);
  sendSurvey(core, conv, agentId);
  const resolved = {
    subjectKey: subjectKey(conv.subject, conv.skill),
    conversationId: conv.id,
    frontOfficeAgentId: agent.tier === Tier.TIER_FRONT_OFFICE ? agentId : '',
  };
  const memory = rememberResolution(core.customers, conv.customerKey, resolved, now, core.policy);
  core.out.customerChanged(memory.key);
  if (!wrapUpAfterResolution(core, agent, now)) pullFor(core, agent);
}

/**
 * The customer's survey answer, from any channel: a score of 1 or 2 is kept on the conversation
 * for the supervisor to follow up (the first answer counts). Conversations routing no longer
 * holds are passed by.
 */
export function surveyAnswered(core: Core, conversationId: string, answer: { score: number; agentId: string }, at: number): void {
  const conv = core.conversations.get(conversationId);
  if (!conv || conv.lowScore || !isLowScore(answer.score)) return;
  conv.lowScore = { score: answer.score, agentId: answer.agentId || conv.lastAgentId, answeredAt: at };
  core.out.conversationChanged(conv.id);
}

/** The customer left before being answered (a caller hung up, a chat closed). */
export function abandon(core: Core, conversationId: string): void {
  const conv = conversationOf(core, conversationId);
  if (conv.state !== 'queued' && conv.state !== 'offered') return;
  const now = core.clock.now();
  if (conv.state === 'offered') release(core, conv, core.agents.get(conv.agentId));
  else core.waiting.leave(conv);
  conv.state = 'abandoned';
  conv.slaState = 'stopped';
  core.out.event(conv, reason('customer.abandoned', 'the customer left before an agent answered'), {
    $case: 'abandoned',
    abandoned: { waitedMs: now - conv.createdAt },
  });
}
