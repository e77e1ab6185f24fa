// A promise's rules: what a valid one is, and the words the customer and the owner get. No I/O.
import type { PromiseRecord } from './records';
import { RoutingError } from './records';
import { dateTimeAt } from '#libs/calendars';

const MILESTONE_MAX = 200;
/** Further ahead than this is not a promise but a guess. */
const FURTHEST_MS = 366 * 86_400_000;
/** A cost above this (in minor units) is taken for a typing error. */
const COST_MAX = 100_000_000_00;
const CURRENCY = /^[A-Z]{3}$/;
// Control characters would reach the customer's SMS or the desk's page as they are.

const CONTROL = /[\u0000-\u001f\u007f]/;

/** What an owner or a supervisor asks for: a promise set or updated. */
export interface PromiseInput {
  milestone: string;
  dueAt: number | undefined;
  costMinor: number;
  currency: string;
}

/** The input as it will be kept, or a RoutingError (INVALID_ARGUMENT) naming what is wrong. */
export function checkPromise(input: PromiseInput, now: number): { milestone: string; dueAt: number; costMinor: number; currency: string } {
  const milestone = input.milestone.trim();
  if (!milestone) throw invalid('milestone is empty: say what the next step is');
  if (milestone.length > MILESTONE_MAX) throw invalid(`milestone is longer than ${MILESTONE_MAX} characters`);
  if (CONTROL.test(milestone)) throw invalid('milestone contains control characters');
  const dueAt = input.dueAt;
  if (dueAt === undefined || !Number.isFinite(dueAt)) throw invalid('due_at is required: when the milestone is expected');
  if (dueAt <= now) throw invalid(`the promised date ${new Date(dueAt).toISOString()} is in the past`);
  if (dueAt > now + FURTHEST_MS) throw invalid('the promised date is more than a year ahead');
  const currency = input.currency.trim().toUpperCase();
  if (!Number.isSafeInteger(input.costMinor) || input.costMinor < 0 || input.costMinor > COST_MAX)
    throw invalid('cost_minor must be a whole number of minor units (cents), 0 or more');
  if (input.costMinor > 0 && !currency) throw invalid('a cost needs its currency (an ISO 4217 code such as EUR)');
  if (currency && !CURRENCY.test(currency)) throw invalid(`currency "${input.currency.slice(0, 10)}" is not an ISO 4217 code (three letters, such as EUR)`);
  if (currency && input.costMinor === 0) throw invalid('a currency was given without a cost');
  return { milestone, dueAt, costMinor: input.costMinor, currency };
}

function invalid(message: string): RoutingError {
  return new RoutingError('INVALID_ARGUMENT', message);
}

/** True when a customer's message asks for the status: just the word, whatever the case or a final ? or . */
export function asksStatus(text: string): boolean {
  return /^status[?.!]?$/i.test(text.trim());
}

/** "Friday 4 December 2026, 15:00 UTC": the same words whatever the machine's locale. */
export function dateInWords(ms: number): string {
  return dateTimeAt(ms);
}

/** "120.50 EUR", with the currency's own number of minor digits. */
export function costInWords(costMinor: number, currency: string): string {
  const digits = minorDigits(currency);
  return `${(costMinor / 10 ** digits).toFixed(digits)} ${currency}`;
}

function minorDigits(currency: string): number {
  try {
    return new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2;
  } catch (err) {
    if (err instanceof RangeError) return 2;
    throw err;
  }
}

type Said = Pick<PromiseRecord, 'milestone' | 'dueAt' | 'costMinor' | 'currency'>;

function body(p: Said): string {
  const cost = p.currency ? ` Estimated cost: ${costInWords(p.costMinor, p.currency)}.` : '';
  return `next step: ${p.milestone}, expected by ${dateInWords(p.dueAt)}.${cost}`;
}

function about(subject: string): string {
  return subject ? `your case "${subject.slice(0, 80)}"` : 'your case';
}

/** The status message sent when the promise is set or updated. */
export function statusText(p: Said, subject: string, updated: boolean): string {
  return `${updated ? 'Update on' : 'Where we are with'} ${about(subject)}: ${body(p)}`;
}

/** The answer to "status". */
export function currentStatusText(p: PromiseRecord, subject: string, now: number): string {
  const head = `Status of ${about(subject)}`;
  if (p.state === 'kept') return `${head}: "${p.milestone}" is done. We will write again at the next step.`;
  if (p.state === 'slipped' || p.dueAt <= now) return `${head}: ${lateText(p)}`;
  return `${head}: ${body(p)}`;
}

/** Said when the deadline passed: the owner gives the new date (routing does not guess one). */
export function slippedText(p: Said, subject: string): string {
  return `We are sorry: we are late with ${about(subject)}. ${lateText(p)}`;
}

function lateText(p: Said): string {
  return `"${p.milestone}" was expected by ${dateInWords(p.dueAt)} and is not done yet. The person handling your case has been alerted and will send you a new date.`;
}

/** What the owner and the supervisors read on the desk. */
export function warningText(p: Said, leftMs: number): string {
  const hours = Math.max(0, Math.round(leftMs / 3600_000));
  return `Promise due in about ${hours} h (${dateInWords(p.dueAt)}): "${p.milestone}". Mark it kept, or set a new date before it slips.`;
}

export function ownerSlippedText(p: Said): string {
  return `Promise slipped: "${p.milestone}" was due ${dateInWords(p.dueAt)}. The customer was told a new date is coming: set one.`;
}
