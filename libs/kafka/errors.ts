// The two outcomes a handler can ask for besides success or failure. Whether a failure is
// worth waiting for (a dependency down) is decided by libs/faults.

/** Thrown by a handler for a record that can never be processed (invalid content): no retries. */
export class InvalidEventError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidEventError';
  }
}

/**
 * Thrown by a handler that cannot take the record on this instance right now (it does not own
 * the work, or is handing it over): no retries, no dead letter; the batch stops there without
 * marking the record done, so it is fetched again, here or by the partition's next owner.
 */
export class RetryLaterError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RetryLaterError';
  }
}
