// The reports' routes: rows per interval and dimension as JSON or as a CSV download, and the
// report card of one queue, channel or agent. Ops and supervisors both read them: the figures
// are about the service and its staff, never about a customer.
import type http from 'node:http';
import { BadRequestError, SECURITY_HEADERS, sendJson, type StaffSignIn } from '#libs/web';
import type { ApiRoute } from './http';
import { DIMENSIONS, INTERVALS, reportCsv, type ReportDimension, type ReportInterval, type ReportRow } from './report-figures';
import type { ReportFold } from './reports';
import { readingSession } from './sign-in';

/** The longest period each interval may cover in one answer: about 700 rows per queue, channel or agent. */
const MAX_RANGE_MS: Record<ReportInterval, number> = { '15m': 7 * 86_400_000, hour: 31 * 86_400_000, day: 731 * 86_400_000 };
const VALUE = /^[A-Za-z0-9._:@/-]{1,128}$/;
/** Rows one answer may hold (a week by 15 minutes for 30 agents is 20,160). */
const MAX_REPORT_ROWS = 25_000;

/** The rows, or a 400 saying how to ask for fewer: a shorter period or a longer interval. */
export function withinRowLimit(rows: ReportRow[], max = MAX_REPORT_ROWS): ReportRow[] {
  if (rows.length > max) throw new BadRequestError(`the report has ${rows.length} rows, more than ${max}: choose a shorter period or a longer interval`);
  return rows;
}

export interface ReportRouteDeps {
  signIn: StaffSignIn;
  reports: ReportFold;
  now: () => number;
}

interface ReportQuery {
  interval: ReportInterval;
  by: ReportDimension;
  from: number;
  to: number;
}

/** ?interval=15m|hour|day&by=queue|channel|agent&from=ISO&to=ISO; by default the last day by hour, per queue. */
function parseReportQuery(params: URLSearchParams, now: number): ReportQuery {
  const interval = params.get('interval') ?? 'hour';
  if (!Object.hasOwn(INTERVALS, interval)) throw new BadRequestError(`interval must be one of ${Object.keys(INTERVALS).join(', ')}`);
  const by = params.get('by') ?? 'queue';
  if (!(DIMENSIONS as readonly string[]).includes(by)) throw new BadRequestError(`by must be one of ${DIMENSIONS.join(', ')}`);
  const step = INTERVALS[interval as ReportInterval];
  const to = timeParam(params, 'to') ?? Math.ceil((now + 1) / step) * step;
  const from = timeParam(params, 'from') ?? to - 86_400_000;
  if (from >= to) throw new BadRequestError('from must be before to');
  if (to - from > MAX_RANGE_MS[interval as ReportInterval])
    throw new BadRequestError(`a report by ${interval} covers at most ${MAX_RANGE_MS[interval as ReportInterval] / 86_400_000} days`);
  return { interval: interval as ReportInterval, by: by as ReportDimension, from, to };
}

function timeParam(params: URLSearchParams, name: string): number | undefined {
  const text = params.get(name);
  if (text === null || text === '') return undefined;
  const t = /^\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:\d{2})?)?$/.test(text) ? Date.parse(text) : NaN;
  if (!Number.isFinite(t)) throw new BadRequestError(`${name} must be a date or time in ISO 8601 (2026-12-01 or 2026-12-01T09:00:00Z)`);
  return t;
}

export function reportRoutes(deps: ReportRouteDeps): ApiRoute[] {
  return [
    { method: 'GET', path: '/api/reports', name: '/api/reports', run: (req, res, _m, url) => rowsRoute(deps, req, res, url) },
    { method: 'GET', path: '/api/reports.csv', name: '/api/reports.csv', run: (req, res, _m, url) => csvRoute(deps, req, res, url) },
    { method: 'GET', path: '/api/reports/card', name: '/api/reports/card', run: (req, res, _m, url) => cardRoute(deps, req, res, url) },
  ];
}

async function rowsRoute(deps: ReportRouteDeps, req: http.IncomingMessage, res: http.ServerResponse, url: URL): Promise<void> {
  await readingSession(deps.signIn, req);
  const q = parseReportQuery(url.searchParams, deps.now());
  const rows = withinRowLimit(deps.reports.report(q.interval, q.by, q.from, q.to));
  sendJson(res, 200, { ...q, from: iso(q.from), to: iso(q.to), eventsFolded: deps.reports.folded, rows });
}

async function csvRoute(deps: ReportRouteDeps, req: http.IncomingMessage, res: http.ServerResponse, url: URL): Promise<void> {
  await readingSession(deps.signIn, req);
  const q = parseReportQuery(url.searchParams, deps.now());
  const body = reportCsv(q.interval, withinRowLimit(deps.reports.report(q.interval, q.by, q.from, q.to)));
  const name = `report-${q.by}-${q.interval}-${iso(q.from).slice(0, 10)}.csv`;
  res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': 'text/csv; charset=utf-8', 'content-disposition': `attachment; filename="${name}"` }).end(body);
}

async function cardRoute(deps: ReportRouteDeps, req: http.IncomingMessage, res: http.ServerResponse, url: URL): Promise<void> {
  await readingSession(deps.signIn, req);
  const q = parseReportQuery(url.searchParams, deps.now());
  const value = url.searchParams.get('value') ?? '';
  if (!VALUE.test(value)) throw new BadRequestError(`value must name the ${q.by}: 1-128 letters, digits or . _ : @ / -`);
  const card = deps.reports.card(q.interval, q.by, value, q.from, q.to);
  sendJson(res, 200, { ...card, from: iso(card.from), to: iso(card.to) });
}

const iso = (t: number) => new Date(t).toISOString();
