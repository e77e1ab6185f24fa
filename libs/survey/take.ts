// Taking a customer's answer, the same on every channel: decided by decideSurveyReply, claimed
// once per conversation in the channel's store, then published by the channel.
import type { ConversationEvent } from '#libs/proto';
import { decideSurveyReply, type SurveyAnswerClaim, type SurveySent } from './answer';
import { surveyAnsweredEvent } from './event';

/** What a channel keeps of its surveys (SurveyRecords in its own collections). */
export interface SurveyStore {
  surveyOf(conversationId: string): Promise<SurveySent | undefined>;
  answerOf(conversationId: string): Promise<SurveyAnswerClaim | undefined>;
  claimAnswer(conversationId: string, by: string, score: number, at: Date): Promise<SurveyAnswerClaim>;
}

export type SurveyAnswerOutcome = 'answered' | 'already-answered' | 'not-an-answer';

/**
 * `text` answers the conversation's survey when decideSurveyReply says so; `by` (what carried
 * it: a MessageSid, a mail, a link) holds the claim, so the same reply again publishes the same
 * event again (its id is the conversation's) and any other is told it was already answered.
 */
export async function takeSurveyAnswer(input: {
  store: SurveyStore;
  conversationId: string;
  text: string;
  by: string;
  now: Date;
  windowMs: number;
  eventId: string;
  reason: { code: string; text: string };
  publish: (event: ConversationEvent) => Promise<unknown>;
}): Promise<SurveyAnswerOutcome> {
  const { store, conversationId, by, now } = input;
  const [survey, answered] = await Promise.all([store.surveyOf(conversationId), store.answerOf(conversationId)]);
  const decision = decideSurveyReply({ text: input.text, by, survey, answered, now, windowMs: input.windowMs });
  if (decision.kind === 'contact') return 'not-an-answer';
  if (decision.kind === 'already-answered') return 'already-answered';
  const claim = await store.claimAnswer(conversationId, by, decision.reply.score, now);
  if (claim.by !== by) return 'already-answered';
  await input.publish(surveyAnsweredEvent(input.eventId, decision.survey, decision.reply, now, input.reason));
  return 'answered';
}
