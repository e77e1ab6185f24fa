// Erasures on cc.erasure.v1, for every service that keeps customer text: the keyed hash that names
// an erased subject, the set of erasures known, and a reader that tails the compacted topic.
export * from './subjects';
export * from './reader';
export * from './config';
export * from './follow';
export * from './applied';
