// The links of the survey mail, one per score: signed with HMAC-SHA256 over the conversation,
// the score and the expiry under EMAIL_SURVEY_LINK_KEY, so nobody can answer for another
// conversation or after the link ran out. No I/O.
import { createHmac, timingSafeEqual } from 'node:crypto';

export const SURVEY_PATH = '/survey';

/** The link's signature does not match, or a field is missing or malformed: 400. */
export class BadSurveyLinkError extends Error {
  readonly status = 400;
  constructor(reason: string) {
    super(`this survey link is not valid: ${reason}`);
    this.name = 'BadSurveyLinkError';
  }
}

/** The link was signed, but its time is over: 410. */
export class ExpiredSurveyLinkError extends Error {
  readonly status = 410;
  constructor() {
    super('this survey link has expired');
    this.name = 'ExpiredSurveyLinkError';
  }
}

interface SurveyLinkFields {
  conversationId: string;
  score: number;
  expiresAt: Date;
}

function signature(key: string, { conversationId, score, expiresAt }: SurveyLinkFields): Buffer {
  return createHmac('sha256', key)
    .update(`survey\n${conversationId}\n${score}\n${Math.floor(expiresAt.getTime() / 1000)}`)
    .digest();
}

export function surveyLink(base: string, key: string, fields: SurveyLinkFields): string {
  const query = new URLSearchParams({
    c: fields.conversationId,
    s: String(fields.score),
    e: String(Math.floor(fields.expiresAt.getTime() / 1000)),
    sig: signature(key, fields).toString('base64url'),
  });
  return `${base.replace(/\/$/, '')}${SURVEY_PATH}?${query}`;
}

/** The conversation and score a link answers with, once its signature and expiry are checked. */
export function verifySurveyLink(key: string, query: URLSearchParams, now: Date): { conversationId: string; score: number } {
  const conversationId = query.get('c') ?? '';
  const score = query.get('s') ?? '';
  const expires = query.get('e') ?? '';
  const given = Buffer.from(query.get('sig') ?? '', 'base64url');
  if (!/^[A-Za-z0-9_.:-]{1,128}$/.test(conversationId)) throw new BadSurveyLinkError('the conversation is missing or malformed');
  if (!/^[1-5]$/.test(score)) throw new BadSurveyLinkError('the score must be 1 to 5');
  if (!/^\d{1,12}$/.test(expires)) throw new BadSurveyLinkError('the expiry is missing or malformed');
  const fields = { conversationId, score: Number(score), expiresAt: new Date(Number(expires) * 1000) };
  const expected = signature(key, fields);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw new BadSurveyLinkError('the signature does not match');
  // Checked after the signature: only a link we made is told it expired.
  if (now.getTime() > fields.expiresAt.getTime()) throw new ExpiredSurveyLinkError();
  return { conversationId, score: fields.score };
}

/** The survey mail's text: routing's question, a link per score when links are on, and that a reply works too. */
export function surveyMailText(question: string, links: string[]): string {
  const lines = [question, ''];
  if (links.length) {
    const labels = ['1 (poor)', '2', '3', '4', '5 (excellent)'];
    lines.push('Choose your score:', ...links.map((link, i) => `  ${labels[i]}: ${link}`), '');
  }
  lines.push('Or reply to this mail with a number from 1 to 5, optionally followed by a comment.');
  return lines.join('\n');
}
