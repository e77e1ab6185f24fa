// Whether a customer's reply is the answer to the survey the conversation was sent: a score of
// 1 to 5 as its first word, optionally followed by a comment ("4 quick and kind"), within the
// window after the survey went out, and only the first answer counts.
import type { Channel } from '#libs/proto';

/** Metadata routing puts on the survey message: who resolved the conversation, in which queue. */
export const SURVEY_AGENT = 'survey-agent';
export const SURVEY_QUEUE = 'survey-queue';

/** The longest comment kept with an answer, as the chat widget allows. */
const MAX_SURVEY_COMMENT = 1000;

export interface SurveyReply {
  score: number;
  comment: string;
}

/** What a channel remembers when it sends a conversation's survey. */
export interface SurveySent {
  conversationId: string;
  /** The conversation's channel: a call's survey answered by SMS is still the call's. */
  channel: Channel;
  question: string;
  sentAt: Date;
  agentId: string;
  queue: string;
}

/** The answer a channel recorded first; `by` names what carried it (a MessageSid, a Message-ID, a link). */
export interface SurveyAnswerClaim {
  by: string;
}

/**
 * "5", "4 quick and kind", "3. ok", "2/5 slow", "5!": the score and what follows it. Anything
 * else (a question, "10", "4.5", an empty text) is not a score.
 */
export function parseSurveyReply(text: string): SurveyReply | undefined {
  const match = /^\s*([1-5])(?:\s*\/\s*5)?(?![.,]\d)(?=$|[\s.,;:!)-])[\s.,;:!)-]*([\s\S]*)$/.exec(text);
  if (!match) return undefined;
  return { score: Number(match[1]), comment: match[2]!.trim().replace(/\s+/g, ' ').slice(0, MAX_SURVEY_COMMENT) };
}

export type SurveyReplyDecision =
  { kind: 'contact' } | { kind: 'answer'; reply: SurveyReply; survey: SurveySent } | { kind: 'already-answered'; survey: SurveySent };

/**
 * A reply is the answer when it reads as a score, a survey was sent on the conversation within
 * `windowMs` before it, and no other reply answered first (the same one again, a retry, counts
 * again so its event is published again with the same id). Otherwise it is an ordinary contact.
 */
export function decideSurveyReply(input: {
  text: string;
  by: string;
  survey: SurveySent | undefined;
  answered: SurveyAnswerClaim | undefined;
  now: Date;
  windowMs: number;
}): SurveyReplyDecision {
  const reply = parseSurveyReply(input.text);
  const { survey } = input;
  if (!reply || !survey || !withinSurveyWindow(survey, input.now, input.windowMs)) return { kind: 'contact' };
  if (input.answered && input.answered.by !== input.by) return { kind: 'already-answered', survey };
  return { kind: 'answer', reply, survey };
}

export function withinSurveyWindow(survey: Pick<SurveySent, 'sentAt'>, now: Date, windowMs: number): boolean {
  const age = now.getTime() - survey.sentAt.getTime();
  return age >= 0 && age <= windowMs;
}

/** A score of 1 or 2: the supervisor follows it up. */
export function isLowScore(score: number): boolean {
  return score <= 2;
}
