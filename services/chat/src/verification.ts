// Proving an email address in the chat: a one-time code mailed to it, typed back into the
// widget. Rules only (codes, hashes, limits, checks); the store and the wiring do the I/O.
import { createHmac, randomInt, timingSafeEqual } from 'node:crypto';
import { waitInWords } from '#libs/contact';

export interface VerificationLimits {
  /** How long a code can be used. */
  codeTtlMs: number;
  /** Wrong codes allowed per code before it is spent. */
  maxTries: number;
  /** Codes one conversation may ask for per hour. */
  perConversationPerHour: number;
  /** Codes one address may receive per day, from all conversations together. */
  perAddressPerDay: number;
}

export const HOUR_MS = 3_600_000;
export const DAY_MS = 24 * HOUR_MS;

export type VerificationErrorCode = 'verification-limit' | 'no-code' | 'code-expired' | 'code-wrong' | 'too-many-tries';

/** A refusal the visitor is told about in an error frame with this code. */
export class VerificationError extends Error {
  constructor(
    readonly code: VerificationErrorCode,
    message: string,
    readonly detail: { retryAfterMs?: number; triesLeft?: number } = {},
  ) {
    super(message);
    this.name = 'VerificationError';
  }
}

/** Six random digits, leading zeros kept. */
export function newCode(): string {
  return String(randomInt(0, 1_000_000)).padStart(6, '0');
}

/**
 * Only this is stored. Keyed with the service's secret and bound to the conversation and the
 * address, so a copy of the store does not give the codes away and a code proves nothing else.
 */
export function codeHash(secret: string, conversationId: string, email: string, code: string): string {
  return createHmac('sha256', secret).update(`chat-verification\n${conversationId}\n${email}\n${code}`).digest('hex');
}

/** Constant-time: how long the check takes says nothing about how close a guess was. */
export function codeMatches(storedHash: string, secret: string, conversationId: string, email: string, typed: string): boolean {
  const expected = Buffer.from(storedHash, 'hex');
  const actual = Buffer.from(codeHash(secret, conversationId, email, typed), 'hex');
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

/**
 * May another code be sent? `byConversation` and `byAddress` are when earlier codes were
 * asked for (any order). Refuses with the wait until the oldest one in the window leaves it.
 */
export function checkCodeRequest(now: number, byConversation: Date[], byAddress: Date[], limits: VerificationLimits): void {
  const over = (times: Date[], windowMs: number, max: number) => {
    const inWindow = times
      .map((t) => t.getTime())
      .filter((t) => t > now - windowMs)
      .sort((a, b) => a - b);
    return inWindow.length >= max ? inWindow[inWindow.length - max]! + windowMs - now : 0;
  };
  const conversationWait = over(byConversation, HOUR_MS, limits.perConversationPerHour);
  if (conversationWait > 0) {
    throw new VerificationError(
      'verification-limit',
      `This chat asked for ${limits.perConversationPerHour} codes in the last hour; try again in ${minutes(conversationWait)}.`,
      { retryAfterMs: conversationWait },
    );
  }
  const addressWait = over(byAddress, DAY_MS, limits.perAddressPerDay);
  if (addressWait > 0) {
    throw new VerificationError(
      'verification-limit',
      `This address was sent ${limits.perAddressPerDay} codes in the last day; try again in ${minutes(addressWait)}.`,
      { retryAfterMs: addressWait },
    );
  }
}

export interface PendingCode {
  email: string;
  hash: string;
  expiresAt: Date;
}

/** Whether a code may still be tried; `triesUsed` counts this try. Throws why not. */
export function checkCodeAttempt(pending: PendingCode | null, triesUsed: number, now: number, limits: VerificationLimits): PendingCode {
  if (!pending) throw new VerificationError('no-code', 'No code was sent in this chat; ask for one first.');
  if (pending.expiresAt.getTime() <= now) throw new VerificationError('code-expired', 'The code has expired; ask for a new one.');
  if (triesUsed > limits.maxTries) throw new VerificationError('too-many-tries', `The code was typed wrong ${limits.maxTries} times; ask for a new one.`);
  return pending;
}

export function wrongCode(triesUsed: number, limits: VerificationLimits): VerificationError {
  const triesLeft = Math.max(0, limits.maxTries - triesUsed);
  return triesLeft > 0
    ? new VerificationError('code-wrong', `That code is not right; ${triesLeft} ${triesLeft === 1 ? 'try' : 'tries'} left.`, { triesLeft })
    : new VerificationError('too-many-tries', `The code was typed wrong ${limits.maxTries} times; ask for a new one.`, { triesLeft: 0 });
}

/** The mail that carries the code: plain text, nothing from the visitor in it but the address. */
export function codeMail(code: string, reference: string, ttlMs: number): { subject: string; text: string } {
  return {
    subject: 'Your chat verification code',
    text:
      `Your code is ${code}.\n\n` +
      `Type it into the chat (reference ${reference}) to confirm that this address is yours. It works for ${minutes(ttlMs)}.\n\n` +
      'If you did not ask for it, you can ignore this mail: nobody can use your address in the chat without this code.',
  };
}

/** Whole minutes, rounded up: a visitor is never told to try again too early. */
function minutes(ms: number): string {
  return waitInWords(ms, { roundUp: true, largest: 'minute' });
}
