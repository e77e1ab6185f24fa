import { describe, expect, it } from 'vitest';
import { BadSurveyLinkError, ExpiredSurveyLinkError, surveyLink, surveyMailText, verifySurveyLink } from '../src/survey-link';
import { answeredPage, failurePage } from '../src/survey-pages';

const KEY = 'k'.repeat(32);
const now = new Date('2025-03-01T10:00:00Z');
const expiresAt = new Date('2025-03-08T10:00:00Z');
const query = (link: string) => new URL(link).searchParams;
const link = (score = 4, conversationId = 'conv-1') => surveyLink('https://survey.example.com/', KEY, { conversationId, score, expiresAt });

describe('survey links', () => {
  it('verify what they were signed for', () => {
    expect(link()).toMatch(/^https:\/\/survey\.example\.com\/survey\?c=conv-1&s=4&e=\d+&sig=[\w-]{43}$/);
    expect(verifySurveyLink(KEY, query(link()), now)).toEqual({ conversationId: 'conv-1', score: 4 });
  });

  it('refuse another score, another conversation, another key, a missing or malformed field', () => {
    const changed = (name: string, value: string) => {
      const q = query(link());
      q.set(name, value);
      return q;
    };
    for (const q of [changed('s', '5'), changed('c', 'conv-2'), changed('e', '99999999999'), changed('sig', 'AAAA'), changed('s', '9'), changed('c', '<x>')])
      expect(() => verifySurveyLink(KEY, q, now)).toThrow(BadSurveyLinkError);
    expect(() => verifySurveyLink('x'.repeat(32), query(link()), now)).toThrow(BadSurveyLinkError);
    expect(() => verifySurveyLink(KEY, new URLSearchParams(), now)).toThrow(BadSurveyLinkError);
  });

  it('expire after their time, and only a signed link is told so', () => {
    expect(() => verifySurveyLink(KEY, query(link()), new Date(expiresAt.getTime() + 1000))).toThrow(ExpiredSurveyLinkError);
    expect(verifySurveyLink(KEY, query(link()), expiresAt).score).toBe(4);
  });

  it('are listed in the mail, 1 to 5, with the reply offered too', () => {
    const text = surveyMailText(
      'How did we do?',
      [1, 2, 3, 4, 5].map((s) => link(s)),
    );
    expect(
      text
        .split('\n')
        .filter((l) => l.includes('/survey?'))
        .map((l) => l.trim()[0]),
    ).toEqual(['1', '2', '3', '4', '5']);
    expect(text).toContain('reply to this mail with a number from 1 to 5');
    expect(surveyMailText('How did we do?', [])).not.toContain('http');
  });

  it('answer with a page and status per outcome', () => {
    expect(answeredPage('answered', 4)).toMatchObject({ status: 200, html: expect.stringContaining('4 out of 5') });
    expect(failurePage(new BadSurveyLinkError('x')).status).toBe(400);
    expect(failurePage(new ExpiredSurveyLinkError()).status).toBe(410);
    expect(failurePage(new Error('store down')).status).toBe(503);
  });
});
