// The plain pages a survey link answers with. No I/O; nothing the customer sent is echoed.
import { BadSurveyLinkError, ExpiredSurveyLinkError } from './survey-link';

interface Page {
  status: number;
  html: string;
}

const page = (status: number, title: string, text: string): Page => ({
  status,
  html:
    '<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">' +
    `<title>${title}</title></head><body style="font-family:sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem">` +
    `<h1>${title}</h1><p>${text}</p></body></html>`,
});

export function answeredPage(outcome: 'answered' | 'already-answered', score: number): Page {
  return outcome === 'answered'
    ? page(200, 'Thank you', `We have your score of ${score} out of 5. Thank you for telling us how we did.`)
    : page(200, 'Already answered', 'Thank you: this conversation was already rated, so the first score stands.');
}

/** The one mapping of what went wrong with a survey link to its page and status. */
export function failurePage(err: unknown): Page {
  if (err instanceof BadSurveyLinkError) return page(400, 'Survey link not valid', 'This link is not one we sent, or it was changed. Nothing was recorded.');
  if (err instanceof ExpiredSurveyLinkError) return page(410, 'Survey link expired', 'This survey has closed. Nothing was recorded; thank you all the same.');
  if (err instanceof NoSurveyError) return page(404, 'Survey not found', 'We have no survey for this conversation. Nothing was recorded.');
  if (err instanceof NotGetError) return page(405, 'Not allowed', 'Survey links are opened, not sent to.');
  if (err instanceof TooManyBadLinksError) return page(429, 'Too many tries', 'Too many survey links from here were not valid. Please try again in a minute.');
  return page(503, 'Please try again', 'Your score could not be recorded just now. Please open the link again in a minute.');
}

/** A link we signed for a conversation whose survey this service does not know (its record is gone). */
export class NoSurveyError extends Error {
  constructor(readonly conversationId: string) {
    super(`no survey was sent on conversation ${conversationId}`);
    this.name = 'NoSurveyError';
  }
}

/** The client address opened too many bad or expired links this minute. */
export class TooManyBadLinksError extends Error {
  constructor() {
    super('too many bad survey links from this address this minute');
    this.name = 'TooManyBadLinksError';
  }
}

export class NotGetError extends Error {
  constructor() {
    super('survey links are GET requests');
    this.name = 'NotGetError';
  }
}
