// A customer's answer to the survey of a resolved conversation, by SMS reply or by keypad at
// the end of a call: decided by libs/survey, claimed once per conversation in the store, and
// published as a SurveyAnswered event (through the spool while Kafka does not acknowledge).
import { eventId } from '#libs/contact';
import { decideSurveyReply, parseSurveyReply, surveyAnsweredEvent } from '#libs/survey';
import type { Route } from './webhook-routes';

type RouteContext = Parameters<Route>[0];

/** How the customer answered: the code on the event says which. */
const HOW = {
  sms: { code: 'sms.survey_answered', text: 'the customer answered the satisfaction survey by SMS' },
  keypad: { code: 'voice.survey_answered', text: 'the caller answered the satisfaction survey on the keypad' },
};

export type SurveyAnswerOutcome = 'answered' | 'already-answered' | 'not-an-answer';

/**
 * `text` answers the conversation's survey when libs/survey says so; `by` (the MessageSid or
 * CallSid that carried it) holds the claim, so a Twilio retry publishes the same event again
 * (its id is the conversation's) and any other reply is told it was already answered.
 */
export async function answerSurvey(ctx: RouteContext, conversationId: string, text: string, by: string, how: keyof typeof HOW): Promise<SurveyAnswerOutcome> {
  const [survey, answered] = await Promise.all([ctx.store.surveys.surveyOf(conversationId), ctx.store.surveys.answerOf(conversationId)]);
  const now = ctx.now();
  const decision = decideSurveyReply({ text, by, survey, answered, now, windowMs: ctx.config.SMS_SURVEY_WINDOW_MS });
  if (decision.kind === 'contact') return 'not-an-answer';
  if (decision.kind === 'already-answered') return 'already-answered';
  const claim = await ctx.store.surveys.claimAnswer(conversationId, by, decision.reply.score, now);
  if (claim.by !== by) return 'already-answered';
  await ctx.contacts.deliverEvent(surveyAnsweredEvent(eventId('sms-voice', 'survey', conversationId), decision.survey, decision.reply, now, HOW[how]));
  return 'answered';
}

/**
 * An inbound SMS that reads as a score, from a number pair whose conversation was sent a survey:
 * the answer, unless the MessageSid was already taken as a message (a retry stays what it was).
 * 'not-an-answer' for every other SMS, which most are: they cost no look-up here.
 */
export async function smsSurveyAnswer(ctx: RouteContext, sms: { sid: string; customer: string; company: string; body: string }): Promise<SurveyAnswerOutcome> {
  if (!parseSurveyReply(sms.body)) return 'not-an-answer';
  const [known, conversationId] = await Promise.all([ctx.store.conversationOfSid(sms.sid), ctx.store.conversationOfNumbers(sms.customer, sms.company)]);
  if (known || !conversationId) return 'not-an-answer';
  return answerSurvey(ctx, conversationId, sms.body, sms.sid, 'sms');
}
