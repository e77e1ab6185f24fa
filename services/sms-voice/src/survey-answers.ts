// A customer's answer to the survey of a resolved conversation, by SMS reply or by keypad at
// the end of a call, taken by libs/survey and published as a SurveyAnswered event (through the
// spool while Kafka does not acknowledge).
import { eventId } from '#libs/contact';
import { parseSurveyReply, takeSurveyAnswer, type SurveyAnswerOutcome } from '#libs/survey';
import type { Route } from './webhook-routes';

type RouteContext = Parameters<Route>[0];

/** How the customer answered: the code on the event says which. */
const HOW = {
  sms: { code: 'sms.survey_answered', text: 'the customer answered the satisfaction survey by SMS' },
  keypad: { code: 'voice.survey_answered', text: 'the caller answered the satisfaction survey on the keypad' },
};

/** The answer, by SMS or keypad, of the conversation's survey; `by` is the MessageSid or CallSid that carried it. */
export function answerSurvey(ctx: RouteContext, conversationId: string, text: string, by: string, how: keyof typeof HOW): Promise<SurveyAnswerOutcome> {
  return takeSurveyAnswer({
    store: ctx.store.surveys,
    conversationId,
    text,
    by,
    now: ctx.now(),
    windowMs: ctx.config.SMS_SURVEY_WINDOW_MS,
    eventId: eventId('sms-voice', 'survey', conversationId),
    reason: HOW[how],
    publish: (event) => ctx.contacts.deliverEvent(event),
  });
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
