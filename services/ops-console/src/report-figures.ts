// The counters one report row keeps, and the figures derived from them. Pure.
import { csvLine } from './csv';

export const INTERVALS = { '15m': 15 * 60_000, hour: 3_600_000, day: 86_400_000 } as const;
export type ReportInterval = keyof typeof INTERVALS;
export const DIMENSIONS = ['queue', 'channel', 'agent'] as const;
export type ReportDimension = (typeof DIMENSIONS)[number];

export interface Counters {
  offered: number;
  answered: number;
  answerWaitMs: number;
  abandoned: number;
  abandonWaitMs: number;
  slaMet: number;
  slaBreached: number;
  resolved: number;
  handleMs: number;
  firstContactResolved: number;
  transfers: number;
  escalations: number;
  surveys: number;
  surveyScoreSum: number;
  /** Promises on long cases done by their date, and those whose date passed first. */
  promisesKept: number;
  promisesBroken: number;
  /** Conversations the company wrote first (an application, a person, a notice): apart from the offered ones. */
  companyStarted: number;
}

export const emptyCounters = (): Counters => ({
  offered: 0,
  answered: 0,
  answerWaitMs: 0,
  abandoned: 0,
  abandonWaitMs: 0,
  slaMet: 0,
  slaBreached: 0,
  resolved: 0,
  handleMs: 0,
  firstContactResolved: 0,
  transfers: 0,
  escalations: 0,
  surveys: 0,
  surveyScoreSum: 0,
  promisesKept: 0,
  promisesBroken: 0,
  companyStarted: 0,
});

export function addCounters(into: Counters, from: Counters): void {
  for (const k of Object.keys(into) as (keyof Counters)[]) into[k] += from[k];
}

/** What a report shows: counts, and averages or shares (null when there is nothing to divide by). */
export interface Figures {
  offered: number;
  answered: number;
  abandoned: number;
  abandonRate: number | null;
  averageTimeToAbandonMs: number | null;
  serviceLevel: number | null;
  averageSpeedOfAnswerMs: number | null;
  resolved: number;
  averageHandleMs: number | null;
  firstContactResolution: number | null;
  transfers: number;
  escalations: number;
  surveys: number;
  averageSurveyScore: number | null;
  promisesKept: number;
  promisesBroken: number;
  /** Kept / (kept + broken). */
  promisesKeptShare: number | null;
  companyStarted: number;
}

const ratio = (a: number, b: number): number | null => (b > 0 ? a / b : null);
const mean = (sum: number, n: number): number | null => (n > 0 ? Math.round(sum / n) : null);

export function figuresOf(c: Counters): Figures {
  return {
    offered: c.offered,
    answered: c.answered,
    abandoned: c.abandoned,
    abandonRate: ratio(c.abandoned, c.offered),
    averageTimeToAbandonMs: mean(c.abandonWaitMs, c.abandoned),
    serviceLevel: ratio(c.slaMet, c.slaMet + c.slaBreached),
    averageSpeedOfAnswerMs: mean(c.answerWaitMs, c.answered),
    resolved: c.resolved,
    averageHandleMs: mean(c.handleMs, c.resolved),
    firstContactResolution: ratio(c.firstContactResolved, c.resolved),
    transfers: c.transfers,
    escalations: c.escalations,
    surveys: c.surveys,
    averageSurveyScore: c.surveys > 0 ? Math.round((c.surveyScoreSum / c.surveys) * 100) / 100 : null,
    promisesKept: c.promisesKept,
    promisesBroken: c.promisesBroken,
    promisesKeptShare: ratio(c.promisesKept, c.promisesKept + c.promisesBroken),
    companyStarted: c.companyStarted,
  };
}

export interface ReportRow {
  /** Start of the interval, ms since the epoch (UTC). */
  start: number;
  dimension: ReportDimension;
  value: string;
  figures: Figures;
}

const FIGURE_COLUMNS = Object.keys(figuresOf(emptyCounters())) as (keyof Figures)[];

/** The rows as CSV: a header line, then one line per row; shares as fractions, times in ms. */
export function reportCsv(interval: ReportInterval, rows: ReportRow[]): string {
  const lines = [csvLine(['interval', 'start', 'dimension', 'value', ...FIGURE_COLUMNS])];
  for (const r of rows) {
    const figures = FIGURE_COLUMNS.map((k) => {
      const v = r.figures[k];
      return v === null ? '' : String(Math.round(v * 10_000) / 10_000);
    });
    lines.push(csvLine([interval, new Date(r.start).toISOString(), r.dimension, r.value, ...figures]));
  }
  return lines.join('\r\n') + '\r\n';
}
