// GET /api/stream: the live events as server-sent events, redacted for the viewer's role,
// starting with the remembered ones its filter matches.
import type http from 'node:http';
import type { SessionStore } from '#libs/staff';
import { SECURITY_HEADERS } from '#libs/web';
import { parseFilter } from './filter';
import type { LiveEvent, LiveFeed } from './live-feed';
import { redactForRole } from './redact';
import type { ConsoleSession } from './sign-in';
import { withTraceLink } from './trace-links';

/** A browser that cannot keep up is cut off rather than buffered without bound. */
const MAX_STREAM_BUFFER_BYTES = 4 * 1024 * 1024;
const KEEP_ALIVE_MS = 15_000;

export interface StreamDeps {
  feed: LiveFeed;
  sessions: SessionStore;
  /** How often an open stream's session is checked again. */
  sessionCheckMs: number;
  /** OPS_CONSOLE_TRACE_URL: each event links to its trace there. */
  traceUrlTemplate?: string;
}

export function openStream(deps: StreamDeps, session: ConsoleSession, req: http.IncomingMessage, res: http.ServerResponse, url: URL): void {
  const filter = parseFilter(url.searchParams);
  res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': 'text/event-stream; charset=utf-8', connection: 'keep-alive' });
  const send = (e: LiveEvent) => {
    // EventSource reconnects by itself and starts again from the remembered events.
    if (res.writableLength > MAX_STREAM_BUFFER_BYTES) {
      res.end();
      return;
    }
    const record = withTraceLink(redactForRole(e.record, session.consoleRole), deps.traceUrlTemplate);
    res.write(`event: record\ndata: ${JSON.stringify({ ...record, receivedAt: e.receivedAt })}\n\n`);
  };
  for (const e of deps.feed.backlog(filter)) send(e);
  const unsubscribe = deps.feed.subscribe(filter, send);
  const stopChecks = checkSessionWhileOpen(deps, session, res);
  const close = () => {
    stopChecks();
    unsubscribe();
  };
  req.on('close', close);
  res.on('close', close);
}

/**
 * The session is checked again every few seconds, so signing out, expiry, or the person being
 * disabled, removed or changed on any instance ends the stream too; a comment every 15 s keeps
 * proxies from closing an idle stream.
 */
function checkSessionWhileOpen(deps: StreamDeps, session: ConsoleSession, res: http.ServerResponse): () => void {
  const every = deps.sessionCheckMs;
  let checks = 0;
  const timer = setInterval(() => {
    checks++;
    void deps.sessions.get(session.id).then(
      (s) => {
        if (!s) res.end();
        else if ((checks * every) % KEEP_ALIVE_MS < every) res.write(': keep-alive\n\n');
      },
      () => res.end(),
    );
  }, every);
  return () => clearInterval(timer);
}
