// The console's API, route by route: sign-in and sign-out (libs/web's StaffSignIn), the
// session, the live stream, the charts, the reports, a conversation's timeline (with its hops) and the dead letters.
import type http from 'node:http';
import type { Kafka } from 'kafkajs';
import { BadRequestError, HttpError, searchRequest, searchRow, sendJson, TooManyRequestsError, type StaffSignIn } from '#libs/web';
import type { ChartAggregator } from './charts';
import type { ConversationSearch } from './conversation-search';
import { listDeadLetters, replayDeadLetter, type DeadLetterRouteDeps } from './dead-letter-routes';
import { parseConversationId } from './filter';
import { privacyRoutes } from './privacy-routes';
import { conversationHops } from './hops';
import type { ApiRoute } from './http';
import { readConversationTimeline } from './kafka-io';
import { redactForRole } from './redact';
import { reportRoutes } from './report-routes';
import type { ReportFold } from './reports';
import { readingSession } from './sign-in';
import type { PolledSources } from './sources';
import { openStream, type StreamDeps } from './stream';
import { withTraceLink } from './trace-links';

/** Each timeline is a full scan of the topics: a few at a time per instance is plenty. */
const MAX_TIMELINES = 2;

export interface ConsoleRouteDeps extends DeadLetterRouteDeps, StreamDeps {
  signIn: StaffSignIn;
  charts: ChartAggregator;
  sources: PolledSources;
  /** The console's own client, for the throw-away consumers of timelines. */
  tailKafka: Kafka;
  /** customer-record's search; null without the console's signing key. */
  conversations: ConversationSearch | null;
  reports: ReportFold;
  /** The conversation was erased on its customer's request (the topics still hold it until their retention). */
  erasedConversation(conversationId: string): boolean;
  now: () => number;
}

export function consoleRoutes(deps: ConsoleRouteDeps): ApiRoute[] {
  const { signIn } = deps;
  return [
    { method: 'POST', path: '/api/sign-in', name: '/api/sign-in', run: signIn.signIn },
    { method: 'POST', path: '/api/sign-out', name: '/api/sign-out', run: signIn.signOut },
    { method: 'GET', path: '/api/session', name: '/api/session', run: (req, res) => sessionRoute(signIn, req, res) },
    {
      method: 'GET',
      path: '/api/stream',
      name: '/api/stream',
      run: async (req, res, _m, url) => openStream(deps, await readingSession(signIn, req), req, res, url),
    },
    { method: 'GET', path: '/api/charts', name: '/api/charts', run: (req, res) => chartsRoute(deps, req, res) },
    { method: 'GET', path: /^\/api\/conversations\/([^/]+)\/timeline$/, name: '/api/conversations/:id/timeline', run: timelineRoute(deps) },
    { method: 'GET', path: '/api/search', name: '/api/search', run: (req, res) => searchRoute(deps, req, res) },
    ...reportRoutes({ signIn, reports: deps.reports, now: deps.now }),
    ...privacyRoutes({ signIn, conversations: deps.conversations }),
    { method: 'GET', path: '/api/dead-letters', name: '/api/dead-letters', run: (req, res) => listDeadLetters(deps, req, res) },
    {
      method: 'POST',
      path: /^\/api\/dead-letters\/(\d{1,6})\/(\d{1,20})\/replay$/,
      name: '/api/dead-letters/:partition/:offset/replay',
      run: (req, res, m) => replayDeadLetter(deps, req, res, Number(m[1]), m[2]!),
    },
  ];
}

async function sessionRoute(signIn: StaffSignIn, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const session = await readingSession(signIn, req);
  sendJson(res, 200, {
    staffId: session.staffId,
    name: session.name,
    role: session.role,
    csrfToken: signIn.csrfToken(session),
    expiresAt: session.expiresAt.toISOString(),
  });
}

async function chartsRoute(deps: ConsoleRouteDeps, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  await readingSession(deps.signIn, req);
  sendJson(res, 200, { ...deps.charts.snapshot(deps.now()), deadLettersOnTopic: deps.deadLetters.count, sources: deps.sources.status });
}

/** Conversations by their metadata, as customer-record lets the person see them (ops: no texts). */
async function searchRoute(deps: ConsoleRouteDeps, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const session = await readingSession(deps.signIn, req);
  if (!deps.conversations) throw new HttpError(503, 'conversation search needs the console signing key (AUTH_PRIVATE_KEY_FILE)');
  const url = new URL(req.url ?? '/', 'http://console.invalid');
  const found = await deps.conversations.search({ id: session.staffId, role: session.consoleRole }, searchRequest(url.searchParams));
  sendJson(res, 200, { rows: found.hits.map(searchRow), next: found.nextPageToken });
}

function timelineRoute(deps: ConsoleRouteDeps): ApiRoute['run'] {
  let running = 0;
  return async (req, res, match) => {
    const session = await readingSession(deps.signIn, req);
    const conversationId = parseConversationId(decodedPathPart(match[1]!));
    if (deps.erasedConversation(conversationId)) throw new HttpError(410, `conversation ${conversationId} was erased on its customer's request`);
    if (running >= MAX_TIMELINES) throw new TooManyRequestsError('other timelines are being read; try again in a few seconds', 5000);
    running++;
    let result;
    try {
      result = await readConversationTimeline(deps.tailKafka, conversationId);
    } finally {
      running--;
    }
    const records = result.records.map((r) => withTraceLink(redactForRole(r, session.consoleRole), deps.traceUrlTemplate));
    sendJson(res, 200, { ...result, conversationId, hops: conversationHops(result.records), records });
  };
}

function decodedPathPart(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch (err) {
    if (err instanceof URIError) throw new BadRequestError('conversation id is not valid URL encoding');
    throw err;
  }
}
