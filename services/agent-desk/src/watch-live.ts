// A supervisor's silent view of a live conversation, over its own WebSocket (/live/watch).
// Routing streams a conversation's messages only to the agent holding it, and customer-record
// decides who may read which conversation and audits it: so the view reads the conversation's
// history from customer-record, as the supervisor with their reason, every WATCH_POLL_MS, and
// sends what is new (the visitor's messages, the agent's replies, the routing steps). Nothing is
// written anywhere the visitor or agent would see, and the socket takes nothing from the page.
import { errorDetails, type Logger } from '#libs/observability';
import type { Session } from '#libs/staff';
import { ForbiddenError, NotFoundError } from '#libs/web';
import type { WebSocket } from 'ws';
import type { Backends, Caller } from './backends';
import { caller } from './http';
import { historyItem, type TimelineItem } from './views';
import { WatchCursor, watchRequest, type WatchRequest } from './watch';

export interface WatchDeps {
  backends: Backends;
  logger: Logger;
  pollMs: number;
}

/** A watch that may open: who, which conversation and customer, and what was read first. */
export interface OpenWatch extends WatchRequest {
  caller: Caller;
  customerId: string;
  first: TimelineItem[];
}

/** Reads the conversation once before the socket opens, so a refusal is an HTTP status with its reason. */
export async function openWatch(backends: Backends, s: Session, params: URLSearchParams): Promise<OpenWatch> {
  if (s.role !== 'supervisor') throw new ForbiddenError('the silent view of a conversation is for supervisors');
  const w = watchRequest(params);
  const c = caller(s);
  const context = await backends.customerContext(c, null, w.conversationId, w.reason);
  const customerId = context.customer?.customerId;
  if (!customerId) throw new NotFoundError('no customer record for this conversation yet');
  const first = await entries(backends, c, customerId, w);
  return { ...w, caller: c, customerId, first };
}

async function entries(backends: Backends, c: Caller, customerId: string, w: WatchRequest): Promise<TimelineItem[]> {
  const history = await backends.history(c, customerId, w.conversationId, w.reason);
  return history.entries.map(historyItem);
}

function send(ws: WebSocket, msg: unknown): void {
  if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(msg));
}

/** Sends the conversation so far, then each new entry as customer-record has it; returns the stop. */
export function serveWatch(deps: WatchDeps, ws: WebSocket, w: OpenWatch): () => void {
  const cursor = new WatchCursor();
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const pass = (items: TimelineItem[]) => {
    const fresh = cursor.fresh(items);
    if (fresh.length) send(ws, { type: 'watched', conversationId: w.conversationId, items: fresh });
  };
  const poll = async () => {
    try {
      pass(await entries(deps.backends, w.caller, w.customerId, w));
    } catch (err) {
      deps.logger.warn({ conversationId: w.conversationId, ...errorDetails(err) }, 'silent view read failed; trying again');
      send(ws, { type: 'status', text: 'customer-record is not answering; retrying…' });
    }
    if (!stopped) timer = setTimeout(() => void poll(), deps.pollMs);
  };
  // The desk's own audit line beside customer-record's per-read entries: who watched which conversation, never what was said.
  const audit = { supervisor: w.caller.id, conversationId: w.conversationId };
  deps.logger.info(audit, 'silent view opened');
  send(ws, { type: 'status', text: 'watching silently' });
  pass(w.first);
  timer = setTimeout(() => void poll(), deps.pollMs);
  return () => {
    stopped = true;
    clearTimeout(timer);
    deps.logger.info(audit, 'silent view closed');
  };
}
