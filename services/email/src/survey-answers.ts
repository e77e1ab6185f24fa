// A customer's answer to the survey mail, by reply or by a signed link: taken by libs/survey
// once per conversation and published as a SurveyAnswered event.
import { eventId } from '#libs/contact';
import { topics, type EventProducer } from '#libs/kafka';
import { parseSurveyReply, takeSurveyAnswer, type SurveyAnswerOutcome } from '#libs/survey';
import type { EmailConfig } from './config';
import type { NormalisedMail } from './normalise';
import type { EmailStore } from './store';

interface AnswerDeps {
  config: Pick<EmailConfig, 'EMAIL_SURVEY_WINDOW_MS'>;
  store: EmailStore;
  producer: EventProducer;
}

const HOW = {
  reply: { code: 'email.survey_answered', text: 'the customer answered the satisfaction survey by replying to its mail' },
  link: { code: 'email.survey_link_answered', text: 'the customer answered the satisfaction survey through its link' },
};

export function answerSurvey(
  deps: AnswerDeps,
  conversationId: string,
  text: string,
  by: string,
  how: keyof typeof HOW,
  now: Date,
): Promise<SurveyAnswerOutcome> {
  return takeSurveyAnswer({
    store: deps.store.surveys,
    conversationId,
    text,
    by,
    now,
    windowMs: deps.config.EMAIL_SURVEY_WINDOW_MS,
    eventId: eventId('email', 'survey', conversationId),
    reason: HOW[how],
    publish: (event) => deps.producer.publish(topics.conversationEvents, conversationId, event, { id: event.eventId }),
  });
}

/**
 * A mail joining a conversation whose first word is 1-5, from the conversation's customer:
 * its survey's answer when one was sent within the window. A mail from anyone else, or one
 * that is not a score, stays a message (and costs no look-up when it is not a score).
 */
export async function mailSurveyAnswer(
  deps: AnswerDeps,
  mail: NormalisedMail,
  conversationId: string,
  contactId: string,
  now: Date,
): Promise<SurveyAnswerOutcome> {
  if (!parseSurveyReply(mail.text)) return 'not-an-answer';
  const conversation = await deps.store.conversation(conversationId);
  if (!conversation || conversation.customerAddress.toLowerCase() !== mail.senderAddress.toLowerCase()) return 'not-an-answer';
  return answerSurvey(deps, conversationId, mail.text, contactId, 'reply', now);
}
