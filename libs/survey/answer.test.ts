import { describe, expect, it } from 'vitest';
import { Channel, OutboundKind } from '#libs/proto';
import { decideSurveyReply, isLowScore, parseSurveyReply, surveyAnsweredEvent, surveySentOf, SURVEY_AGENT, SURVEY_QUEUE, withinSurveyWindow } from '.';

const HOUR = 3600_000;
const survey = {
  conversationId: 'c1',
  channel: Channel.CHANNEL_SMS,
  question: 'How did we do?',
  sentAt: new Date('2025-03-01T10:00:00Z'),
  agentId: 'ana',
  queue: 'billing',
};
const at = (ms: number) => new Date(survey.sentAt.getTime() + ms);

describe('a survey reply', () => {
  it.each([
    ['5', 5, ''],
    ['4 quick and kind', 4, 'quick and kind'],
    ['  3. ok I guess ', 3, 'ok I guess'],
    ['2/5 slow', 2, 'slow'],
    ['1!', 1, ''],
    ['5,\nthanks   a lot', 5, 'thanks a lot'],
  ])('reads %j as score %i with comment %j', (text, score, comment) => {
    expect(parseSurveyReply(text)).toEqual({ score, comment });
  });

  it.each(['', 'hello', '0', '6', '10 thanks', '4.5', '45', 'three', 'is 5 ok?', '5am tomorrow?'])('does not read %j as a score', (text) => {
    expect(parseSurveyReply(text)).toBeUndefined();
  });

  it('keeps at most 1,000 characters of comment', () => {
    expect(parseSurveyReply(`4 ${'x'.repeat(2000)}`)!.comment).toHaveLength(1000);
  });
});

describe('deciding whether a reply answers the survey', () => {
  const decide = (over: Partial<Parameters<typeof decideSurveyReply>[0]>) =>
    decideSurveyReply({ text: '5 thanks', by: 'SM1', survey, answered: undefined, now: at(HOUR), windowMs: 24 * HOUR, ...over });

  it('takes a score within the window as the answer', () => {
    expect(decide({})).toEqual({ kind: 'answer', reply: { score: 5, comment: 'thanks' }, survey });
  });

  it('leaves anything else, a reply without a survey and one after the window as a contact', () => {
    expect(decide({ text: 'my router is broken again' })).toEqual({ kind: 'contact' });
    expect(decide({ survey: undefined })).toEqual({ kind: 'contact' });
    expect(decide({ now: at(24 * HOUR + 1) })).toEqual({ kind: 'contact' });
    expect(decide({ now: at(-1) })).toEqual({ kind: 'contact' });
  });

  it('counts the first answer: another one is already answered, the same one again is the answer again', () => {
    expect(decide({ answered: { by: 'SM0' } })).toEqual({ kind: 'already-answered', survey });
    expect(decide({ answered: { by: 'SM1' } }).kind).toBe('answer');
  });

  it('knows the window edges and the low scores', () => {
    expect(withinSurveyWindow(survey, at(24 * HOUR), 24 * HOUR)).toBe(true);
    expect([1, 2, 3, 4, 5].map(isLowScore)).toEqual([true, true, false, false, false]);
  });
});

describe('the survey answered event', () => {
  it('carries channel, score, comment, agent, queue and time, from what routing put on the survey', () => {
    const sent = surveySentOf(
      {
        conversationId: 'c9',
        channel: Channel.CHANNEL_SMS,
        text: 'How did we do?',
        channelMetadata: { [SURVEY_AGENT]: 'ana', [SURVEY_QUEUE]: 'billing', kind: String(OutboundKind.OUTBOUND_KIND_SURVEY) },
      },
      survey.sentAt,
    );
    const event = surveyAnsweredEvent('sms-survey-c9', sent, { score: 2, comment: 'slow' }, at(HOUR), { code: 'sms.survey_answered', text: 'x' });
    expect(event).toMatchObject({
      eventId: 'sms-survey-c9',
      conversationId: 'c9',
      channel: Channel.CHANNEL_SMS,
      occurredAt: at(HOUR),
      step: { $case: 'surveyAnswered', surveyAnswered: { question: 'How did we do?', score: 2, comment: 'slow', agentId: 'ana', queue: 'billing' } },
    });
    expect(surveySentOf({ conversationId: 'c9', channel: Channel.CHANNEL_VOICE, text: 'q', channelMetadata: {} }, survey.sentAt)).toMatchObject({
      agentId: '',
      queue: '',
      channel: Channel.CHANNEL_VOICE,
    });
  });
});
