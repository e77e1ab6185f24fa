// Delivering an outbound message at most once, under redelivery, restarts and rebalances.
// A message is claimed by inserting its id under a unique key before the provider is called;
// what the claim says afterwards decides what a second delivery of the same message does.
// No I/O here: the claims live behind the DeliveryClaims port (a Mongo adapter in ./mongo).
import { randomUUID } from 'node:crypto';
import { isTransient, retry, RetryStoppedError, sleep } from '../faults';
import { RetryLaterError } from '../kafka/errors';

export { deliveryReportedEvent, reportOf, unsentOutcome, type DeliveryReport, type DeliveryReportEvent } from './report';

/**
 * sending: claimed, the provider may be handling it right now (or was, before a crash);
 * sent: the provider took it; failed: the provider refused it for good;
 * uncertain: the send window closed without an answer, so it may or may not have gone.
 */
export type DeliveryState = 'sending' | 'sent' | 'failed' | 'uncertain';

/**
 * Who claims: the instance (INSTANCE_ID, unique among the processes running at one time) and this
 * run of its process, so that a restarted instance knows the claims its crashed run left.
 */
export interface Claimer {
  instance: string;
  run: string;
}

/** One id per process: each start of an instance is a new run. */
const THIS_RUN = randomUUID();

export function claimerOf(instanceId: string): Claimer {
  return { instance: instanceId, run: THIS_RUN };
}

export interface DeliveryRecord {
  _id: string; // outbound message id (or one part of it)
  state: DeliveryState;
  claimedAt: Date;
  /** Absent on claims made before claimers were recorded. */
  claimedBy?: Claimer;
  finishedAt?: Date;
  /** The provider's id for what it took: SMTP Message-ID, Twilio message SID. */
  providerId?: string;
  errorCode?: string;
  detail?: string;
}

export interface DeliveryClaims {
  /** This process: written on its claims. */
  readonly claimer: Claimer;
  /** Inserts a claim in state "sending"; an existing record means someone claimed it first. */
  claim(id: string, at: Date): Promise<'claimed' | DeliveryRecord>;
  find(id: string): Promise<DeliveryRecord | undefined>;
  markSent(id: string, providerId: string, at: Date): Promise<void>;
  markFailed(id: string, errorCode: string, detail: string, at: Date): Promise<void>;
  markUncertain(id: string, detail: string, at: Date): Promise<void>;
  /** Removes a claim whose send provably left nothing at the provider, so a retry may send. */
  release(id: string): Promise<void>;
}

/**
 * How a send failed, as the channel reads its provider's error:
 * refused-permanently: the provider answered no for good (nothing sent, never retried);
 * refused-temporarily: the provider answered not now, or was never reached (nothing sent);
 * uncertain: the provider may have taken it (a timeout or a cut connection mid-request).
 */
export interface SendFailure {
  kind: 'refused-permanently' | 'refused-temporarily' | 'uncertain';
  code: string;
  detail: string;
}

export const DELIVERY_UNCERTAIN = 'DELIVERY_UNCERTAIN';

export type DeliveryOutcome =
  /** repeated: an earlier delivery of this message had already sent it. */
  | { kind: 'sent'; providerId: string; repeated: boolean }
  /** permanent false: gave up after the attempts, nothing was sent; a later delivery may try again. */
  | { kind: 'failed'; permanent: boolean; code: string; detail: string; repeated: boolean }
  | { kind: 'uncertain'; code: typeof DELIVERY_UNCERTAIN; detail: string; repeated: boolean };

/**
 * Thrown when the service is stopping between attempts: the message is left for a later delivery.
 * A RetryLaterError, so the consumer leaves the record unhandled for the partition's next owner.
 */
export class DeliveryInterruptedError extends RetryLaterError {
  constructor(readonly deliveryId: string) {
    super(`delivery ${deliveryId} interrupted by shutdown before it was sent; it will be delivered again`);
    this.name = 'DeliveryInterruptedError';
  }
}

/**
 * What a delivery that finds an existing record does: report what it says, wait while a fresh
 * claim may still be sending, or call uncertain a claim older than the send window or left by an
 * earlier run of this same instance (that process is gone: nobody is still sending it, and waiting
 * would only hold the partition).
 */
export function settleExisting(record: DeliveryRecord, now: Date, sendWindowMs: number, self: Claimer): DeliveryOutcome | { kind: 'wait'; untilMs: number } {
  switch (record.state) {
    case 'sent':
      return { kind: 'sent', providerId: record.providerId ?? '', repeated: true };
    case 'failed':
      return { kind: 'failed', permanent: true, code: record.errorCode ?? '', detail: record.detail ?? '', repeated: true };
    case 'uncertain':
      return { kind: 'uncertain', code: DELIVERY_UNCERTAIN, detail: record.detail ?? uncertainDetail, repeated: true };
    case 'sending': {
      const untilMs = record.claimedAt.getTime() + sendWindowMs;
      const byEarlierRun = record.claimedBy?.instance === self.instance && record.claimedBy.run !== self.run;
      if (now.getTime() < untilMs && !byEarlierRun) return { kind: 'wait', untilMs };
      return { kind: 'uncertain', code: DELIVERY_UNCERTAIN, detail: crashedDetail, repeated: false };
    }
  }
}

const uncertainDetail = 'the provider may or may not have taken this message; it was not sent again, to avoid a duplicate';
const crashedDetail = 'a send of this message was started and never finished (the sender stopped or timed out); it was not sent again, to avoid a duplicate';

export interface DeliverOnceOptions {
  id: string;
  claims: DeliveryClaims;
  /** Calls the provider; resolves with the provider's id for what it took. */
  send(): Promise<string>;
  classify(err: unknown): SendFailure;
  maxAttempts: number;
  backoffMs(attempt: number): number;
  /** How long a claim may stay "sending" before it is called uncertain: above the provider's own timeouts. */
  sendWindowMs: number;
  /** Aborted when the service stops: no new attempt starts. */
  signal?: AbortSignal;
  now?: () => Date;
  /** Called before each retry, for logs. */
  onRetry?(attempt: number, failure: SendFailure): void;
}

/** The provider said not now: the claim was released, and the send may be tried again. */
class RefusedForNow extends Error {
  constructor(readonly failure: SendFailure) {
    super(failure.detail);
  }
}

/** Claims, sends and records one delivery; a second call for the same id never sends again. */
export async function deliverOnce(options: DeliverOnceOptions): Promise<DeliveryOutcome> {
  const { id, maxAttempts } = options;
  const now = options.now ?? (() => new Date());
  try {
    return await retry(() => attemptOnce(options, now), {
      attempts: maxAttempts,
      backoff: options.backoffMs,
      retryIf: (err) => err instanceof RefusedForNow,
      signal: options.signal,
      onRetry: (err, attempt) => options.onRetry?.(attempt, (err as RefusedForNow).failure),
    });
  } catch (err) {
    if (err instanceof RetryStoppedError) throw new DeliveryInterruptedError(id);
    if (!(err instanceof RefusedForNow)) throw err;
    const { code, detail } = err.failure;
    return { kind: 'failed', permanent: false, code, detail: `gave up after ${maxAttempts} attempts: ${detail}`, repeated: false };
  }
}

/** One claim and send; a refusal for now throws RefusedForNow, with the claim released. */
async function attemptOnce(options: DeliverOnceOptions, now: () => Date): Promise<DeliveryOutcome> {
  const { id, claims } = options;
  const claimed = await claims.claim(id, now());
  if (claimed !== 'claimed') return awaitExisting(options, claimed, now);
  let providerId: string;
  try {
    providerId = await options.send();
  } catch (err) {
    const failure = options.classify(err);
    if (failure.kind === 'refused-permanently') {
      await claims.markFailed(id, failure.code, failure.detail, now());
      return { kind: 'failed', permanent: true, code: failure.code, detail: failure.detail, repeated: false };
    }
    if (failure.kind === 'uncertain') {
      const detail = `${uncertainDetail} (${failure.code}: ${failure.detail})`;
      await claims.markUncertain(id, detail, now());
      return { kind: 'uncertain', code: DELIVERY_UNCERTAIN, detail, repeated: false };
    }
    await claims.release(id);
    throw new RefusedForNow(failure);
  }
  await recordSent(claims, id, providerId, now);
  return { kind: 'sent', providerId, repeated: false };
}

/** A fresh claim of someone else's is waited for (it may be sending now), up to the send window. */
async function awaitExisting(options: DeliverOnceOptions, first: DeliveryRecord, now: () => Date): Promise<DeliveryOutcome> {
  let record: DeliveryRecord | undefined = first;
  for (;;) {
    // Released while we looked: nothing was sent, so deliver it as new.
    if (!record) return deliverOnce(options);
    const settled = settleExisting(record, now(), options.sendWindowMs, options.claims.claimer);
    if (settled.kind !== 'wait') {
      if (settled.kind === 'uncertain' && record.state === 'sending') await options.claims.markUncertain(options.id, settled.detail, now());
      return settled;
    }
    await pause(Math.min(500, Math.max(10, settled.untilMs - now().getTime())), options.signal, options.id);
    record = await options.claims.find(options.id);
  }
}

/**
 * The provider took it: the record must say so, or a redelivery would call it uncertain. A store
 * that is down is waited for as long as it takes; any other failure is retried a few times.
 */
function recordSent(claims: DeliveryClaims, id: string, providerId: string, now: () => Date): Promise<void> {
  return retry(() => claims.markSent(id, providerId, now()), { retryIf: (err, attempt) => attempt < 5 || isTransient(err) });
}

/** Waits `ms` unless the service stops, which leaves the delivery for later. */
async function pause(ms: number, signal: AbortSignal | undefined, id: string): Promise<void> {
  if (!(await sleep(ms, signal))) throw new DeliveryInterruptedError(id);
}
