// A visitor's answer to the satisfaction survey, published as a conversation event.
import { KafkaUnavailableError } from '#libs/kafka';
import { notAccepted, noSurveyOffered } from './answers';
import { surveyAnswered } from './events';
import type { ChatParts } from './parts';
import type { VisitorSession } from './session';
import type { VisitorClaims } from './token';

export async function surveyAnswer(
  { store, events }: Pick<ChatParts, 'store' | 'events'>,
  session: VisitorSession,
  claims: VisitorClaims,
  score: number,
  comment: string | undefined,
): Promise<void> {
  const [question, servedBy] = await Promise.all([store.fact(claims.conversationId, 'surveyQuestion'), store.fact(claims.conversationId, 'surveyServedBy')]);
  if (!question) return session.send(noSurveyOffered());
  try {
    await events.surveyAnswered(surveyAnswered(claims.conversationId, question, score, comment, new Date(), servedBy));
  } catch (err) {
    if (!(err instanceof KafkaUnavailableError)) throw err;
    return session.send(notAccepted.surveyAnswer());
  }
  session.send({ type: 'survey-ack' });
}
