// The satisfaction survey after a resolved conversation, as every channel that takes an answer
// sees it: what routing names on the survey, whether a reply is an answer, the event. No I/O.
export * from './answer';
export * from './event';
export * from './take';
