// What the visitor is told when a frame cannot be done: the words and codes in one place.
import type { ServerFrame } from './protocol';

type ErrorFrame = Extract<ServerFrame, { type: 'error' }>;

/** The frame was not understood; the connection stays open. */
export function invalidFrame(message: string): ErrorFrame {
  return { type: 'error', code: 'invalid-frame', message };
}

/** Something failed that the visitor can only retry. */
export function internalError(): ErrorFrame {
  return { type: 'error', code: 'internal', message: 'the service could not handle this frame; try again' };
}

/** Kafka did not take what the frame asked to send; the widget sends a message again by itself. */
export const notAccepted = {
  message: (clientMessageId: string): ErrorFrame => ({
    type: 'error',
    code: 'not-accepted',
    clientMessageId,
    message: 'The message could not be accepted right now; it will be sent again.',
  }),
  verificationCode: (): ErrorFrame => ({ type: 'error', code: 'not-accepted', message: 'The code could not be sent right now; try again in a minute.' }),
  surveyAnswer: (): ErrorFrame => ({ type: 'error', code: 'not-accepted', message: 'The survey answer could not be accepted right now; try again.' }),
};

export function noSurveyOffered(): ErrorFrame {
  return invalidFrame('no survey was offered in this conversation');
}
