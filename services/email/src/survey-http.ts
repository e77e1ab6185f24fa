// The survey links' HTTP edge, on a port of its own (EMAIL_SURVEY_HTTP_PORT), since customers'
// browsers reach it while the operations port stays inside: GET /survey?c&s&e&sig records the
// score when the signature holds and the link has not expired, and answers a plain page.
import http from 'node:http';
import type { Registry } from 'prom-client';
import type { EventProducer } from '#libs/kafka';
import { errorDetails, sharedCounter, type Logger } from '#libs/observability';
import { RateLimiter } from '#libs/rate-limit';
import { clientAddress } from '#libs/web';
import type { EmailConfig } from './config';
import type { EmailStore } from './store';
import { answerSurvey } from './survey-answers';
import { SURVEY_PATH, verifySurveyLink } from './survey-link';
import { answeredPage, failurePage, NoSurveyError, NotGetError, TooManyBadLinksError } from './survey-pages';

interface SurveyHttpDeps {
  config: EmailConfig;
  key: string;
  store: EmailStore;
  producer: EventProducer;
  logger: Logger;
  metrics: Registry;
  now?: () => Date;
}

const REQUEST_TIMEOUT_MS = 15_000;

export function createSurveyServer(deps: SurveyHttpDeps): http.Server {
  const now = deps.now ?? (() => new Date());
  const counted = sharedCounter(deps.metrics, { name: 'cc_email_survey_links_total', help: 'Survey link requests by HTTP status', labelNames: ['status'] });
  // A link is only guessed by trying: an address whose links keep failing is cut off for the minute.
  const refused = new RateLimiter(deps.config.EMAIL_SURVEY_BAD_LINKS_PER_MINUTE, 60_000);
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://survey');
    if (url.pathname !== SURVEY_PATH) return void res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
    const source = clientAddress(req, deps.config.TRUSTED_PROXIES);
    const at = now();
    const answered = refused.isOver(source, at.getTime()) ? Promise.reject(new TooManyBadLinksError()) : answer(deps, req, url, at);
    answered.then(
      (page) => send(res, page),
      (err: unknown) => {
        const page = failurePage(err);
        if (page.status === 400 || page.status === 410) refused.take(source, at.getTime());
        if (page.status >= 500) deps.logger.warn(errorDetails(err), 'survey link answer not recorded');
        send(res, page);
      },
    );
  });
  const send = (res: http.ServerResponse, page: { status: number; html: string }) => {
    counted.inc({ status: String(page.status) });
    // Nothing on the page may be cached or framed: it speaks for one conversation.
    res
      .writeHead(page.status, {
        'content-type': 'text/html; charset=utf-8',
        'cache-control': 'no-store',
        'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
        'referrer-policy': 'no-referrer',
      })
      .end(page.html);
  };
  server.requestTimeout = REQUEST_TIMEOUT_MS;
  return server;
}

async function answer(deps: SurveyHttpDeps, req: http.IncomingMessage, url: URL, now: Date) {
  if (req.method !== 'GET') throw new NotGetError();
  const { conversationId, score } = verifySurveyLink(deps.key, url.searchParams, now);
  if (!(await deps.store.surveys.surveyOf(conversationId))) throw new NoSurveyError(conversationId);
  // The same link opened again (or prefetched) holds the same claim and shows the same thanks.
  const outcome = await answerSurvey(deps, conversationId, String(score), `link:${score}`, 'link', now);
  if (outcome === 'not-an-answer') throw new NoSurveyError(conversationId);
  return answeredPage(outcome, score);
}
