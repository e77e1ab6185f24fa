// The desk's live side: one WebSocket per open page. For agents and experts it carries
// routing's WatchAssignments stream (offers, assignments, revocations, customer messages,
// their own state); for supervisors, fresh agent and queue figures every few seconds, and on
// /live/watch the silent view of one conversation (src/watch-live.ts).
import { STATUS_CODES, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { errorDetails, type Logger } from '#libs/observability';
import { type Session, type SessionStore, type StaffRoster } from '#libs/staff';
import type { WatchAssignmentsResponse } from '#libs/proto';
import type { Backends } from './backends';
import { caller, httpFailure, registerWithRouting, sameOrigin } from './http';
import { floor } from './routes';
import { agentRow, contactItem, noteItem, offerView, presenceValue } from './views';
import { openWatch, serveWatch } from './watch-live';

/** Turns one routing update into what the page shows; null for nothing to show. */
export function liveMessage(u: WatchAssignmentsResponse): Record<string, unknown> | null {
  const update = u.update;
  switch (update?.$case) {
    case 'offer':
      return { type: 'offer', offer: offerView(update.offer) };
    case 'assigned':
      return { type: 'assigned', offer: offerView(update.assigned) };
    case 'revoked':
      return { type: 'revoked', conversationId: update.revoked.conversationId, reason: update.revoked.reason?.text ?? '' };
    case 'customerMessage':
      return update.customerMessage.contact
        ? {
            type: 'message',
            conversationId: update.customerMessage.conversationId,
            item: contactItem(update.customerMessage.contact),
            // The reference the customer quotes, for canned answers: offers do not carry it.
            reference: update.customerMessage.contact.conversationReference,
          }
        : null;
    case 'noted':
      return { type: 'message', conversationId: update.noted.conversationId, item: noteItem(update.noted) };
    case 'agentState':
      return { type: 'agent', agent: agentRow(update.agentState) };
    default:
      return null;
  }
}

export interface LiveDeps {
  sessions: SessionStore;
  roster: StaffRoster;
  backends: Backends;
  logger: Logger;
  supervisorRefreshMs: number;
  /** How often each open socket's session is checked again (signed out elsewhere, person disabled or changed). */
  sessionCheckMs: number;
  /** How often a supervisor's silent view reads the watched conversation again. */
  watchPollMs: number;
}

/** Sends a message to the page if its socket is still open. */
function sendJson(ws: WebSocket, msg: unknown): void {
  if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(msg));
}

/** An agent's or expert's socket: routing's assignment stream, opened again whenever it ends. */
function serveWorker(deps: LiveDeps, ws: WebSocket, s: Session): () => void {
  const { backends, logger } = deps;
  let stopped = false;
  let cancel = () => {};
  let retry: NodeJS.Timeout | undefined;
  const again = () => {
    retry = setTimeout(() => void connect(), 2000);
  };
  const connect = async () => {
    if (stopped) return;
    try {
      const member = await deps.roster.get(s.staffId);
      if (member) await registerWithRouting(backends, member);
      const stream = await backends.watch(caller(s));
      if (stopped) return stream.cancel();
      cancel = () => stream.cancel();
      sendJson(ws, { type: 'status', text: 'connected' });
      stream.on('data', (u: WatchAssignmentsResponse) => {
        const msg = liveMessage(u);
        if (msg) sendJson(ws, msg);
      });
      stream.on('error', (err: Error) => {
        if (stopped) return;
        logger.warn(errorDetails(err), 'assignment stream failed; reconnecting');
        sendJson(ws, { type: 'status', text: 'reconnecting to routing…' });
        again();
      });
      stream.on('end', () => {
        if (!stopped) again();
      });
    } catch (err) {
      logger.warn(errorDetails(err), 'could not open the assignment stream; retrying');
      sendJson(ws, { type: 'status', text: 'routing is not answering; retrying…' });
      again();
    }
  };
  void connect();
  return () => {
    stopped = true;
    clearTimeout(retry);
    cancel();
  };
}

/** A supervisor's socket: fresh agent and queue figures every few seconds. */
function serveSupervisor(deps: LiveDeps, ws: WebSocket, s: Session): () => void {
  const push = () =>
    floor(deps.backends, caller(s)).then(
      (f) => sendJson(ws, { type: 'floor', ...f }),
      (err: unknown) => {
        deps.logger.warn(errorDetails(err), 'floor figures failed');
        sendJson(ws, { type: 'status', text: 'routing is not answering; retrying…' });
      },
    );
  void push();
  const timer = setInterval(push, deps.supervisorRefreshMs);
  return () => clearInterval(timer);
}

/** The open sockets by session, each let in with a session from this origin. */
class LiveSockets {
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: 4096 });
  private readonly open = new Map<string, Set<WebSocket>>();
  /** The session each open socket was let in with, by session id. */
  private readonly sessionOf = new Map<string, Session>();
  private readonly sessionCheck: NodeJS.Timeout;
  private checking = false;

  constructor(private readonly deps: LiveDeps) {
    this.sessionCheck = setInterval(() => void this.checkSessions(), deps.sessionCheckMs);
  }

  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    this.upgrade(req, socket, head).catch((err: unknown) => {
      this.deps.logger.error(errorDetails(err), 'live connection failed');
      socket.destroy();
    });
  }

  /** Closes the sockets of a session that signed out. */
  endSession(sessionId: string): void {
    for (const ws of this.open.get(sessionId) ?? []) ws.close(4001, 'signed out');
  }

  close(): void {
    clearInterval(this.sessionCheck);
    for (const set of this.open.values()) for (const ws of set) ws.terminate();
    this.wss.close();
  }

  private async upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const refuse = (code: number, reason = '') => {
      const body = reason ? JSON.stringify({ error: reason }) : '';
      const type = body ? 'content-type: application/json\r\n' : '';
      socket.end(
        `HTTP/1.1 ${code} ${STATUS_CODES[code] ?? 'Refused'}\r\nconnection: close\r\n${type}content-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
      );
    };
    const url = new URL(req.url ?? '/', 'http://desk');
    if (url.pathname !== '/live' && url.pathname !== '/live/watch') return refuse(404);
    if (!sameOrigin(req)) return refuse(403);
    const { sessions } = this.deps;
    const s = await sessions.get(sessions.idFromCookie(req.headers.cookie));
    if (!s) return refuse(401);
    if (url.pathname === '/live') return this.wss.handleUpgrade(req, socket, head, (ws) => this.admit(ws, s, this.serve(ws, s)));
    // The silent view: refused before the socket opens, with the status a read would get.
    const watch = await openWatch(this.deps.backends, s, url.searchParams).catch((err: unknown) => {
      const { code, message } = httpFailure(err);
      if (code >= 500) this.deps.logger.warn(errorDetails(err), 'silent view could not open');
      refuse(code, message);
      return null;
    });
    if (watch) this.wss.handleUpgrade(req, socket, head, (ws) => this.admit(ws, s, serveWatch({ ...this.deps, pollMs: this.deps.watchPollMs }, ws, watch)));
  }

  private serve(ws: WebSocket, s: Session): () => void {
    if (s.role === 'supervisor') return serveSupervisor(this.deps, ws, s);
    return s.role === 'agent' || s.role === 'expert' ? serveWorker(this.deps, ws, s) : () => {};
  }

  private admit(ws: WebSocket, s: Session, stop: () => void): void {
    let set = this.open.get(s.id);
    if (!set) this.open.set(s.id, (set = new Set()));
    this.sessionOf.set(s.id, s);
    set.add(ws);
    // The session may end on its own (expiry): the socket goes with it.
    const expiry = setTimeout(() => ws.close(4001, 'session expired'), Math.max(0, s.expiresAt.getTime() - Date.now()));
    ws.on('message', () => undefined);
    ws.on('close', () => {
      stop();
      clearTimeout(expiry);
      set.delete(ws);
      if (set.size === 0) {
        this.open.delete(s.id);
        this.sessionOf.delete(s.id);
      }
    });
  }

  // A session can end on another instance, or because the person was disabled, removed or
  // changed: every open socket's session is read again now and then, and closed when it is gone.
  private async checkSessions(): Promise<void> {
    if (this.checking) return;
    this.checking = true;
    const { sessions, backends, logger } = this.deps;
    try {
      for (const [sessionId, set] of [...this.open]) {
        if (await sessions.get(sessionId)) continue;
        for (const ws of set) ws.close(4001, 'session ended');
        // Disabled, removed or no longer an agent: routing stops offering them conversations.
        const s = this.sessionOf.get(sessionId);
        if (s && (s.role === 'agent' || s.role === 'expert')) {
          await backends
            .setPresence(caller(s), presenceValue('offline'))
            .catch((err: unknown) => logger.warn({ staffId: s.staffId, ...errorDetails(err) }, 'setting offline after the session ended failed'));
        }
      }
    } catch (err) {
      logger.warn(errorDetails(err), 'checking live sessions failed; trying again');
    } finally {
      this.checking = false;
    }
  }
}

export function createLive(deps: LiveDeps): LiveSockets {
  return new LiveSockets(deps);
}
