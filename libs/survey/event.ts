// The SurveyAnswered conversation event, the same shape from every channel.
import { ConversationEvent, type Channel } from '#libs/proto';
import { SURVEY_AGENT, SURVEY_QUEUE, type SurveyReply, type SurveySent } from './answer';

/**
 * One event per conversation: `eventId` is stable for the conversation (each channel builds it
 * as it builds its other ids), so an answer published again, or a second answer that slipped
 * past the channel's claim, is de-duplicated downstream.
 */
export function surveyAnsweredEvent(
  eventId: string,
  survey: SurveySent,
  reply: SurveyReply,
  at: Date,
  reason: { code: string; text: string },
): ConversationEvent {
  return ConversationEvent.fromPartial({
    eventId,
    conversationId: survey.conversationId,
    occurredAt: at,
    channel: survey.channel,
    reason,
    step: {
      $case: 'surveyAnswered',
      surveyAnswered: { question: survey.question, score: reply.score, comment: reply.comment, agentId: survey.agentId, queue: survey.queue },
    },
  });
}

/** What a channel remembers of an outbound survey: routing names the agent and queue in its metadata. */
export function surveySentOf(
  message: { conversationId: string; channel: Channel; text: string; channelMetadata: Record<string, string> },
  sentAt: Date,
): SurveySent {
  return {
    conversationId: message.conversationId,
    channel: message.channel,
    question: message.text,
    sentAt,
    agentId: message.channelMetadata[SURVEY_AGENT] ?? '',
    queue: message.channelMetadata[SURVEY_QUEUE] ?? '',
  };
}
