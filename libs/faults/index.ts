// Faults for every service: which failures are transient (./transient), and how work is waited
// for and tried again (./retry).
export { faultKind, isTransient, someInChain, TransientError } from './transient';
export { backoffMs, retry, RetryStoppedError, sleep, sleepUnless, type BackoffOptions, type RetryOptions } from './retry';
