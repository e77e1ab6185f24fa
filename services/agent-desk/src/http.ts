// The desk's HTTP side: static page, sign-in/out with server-side sessions, and a small JSON
// API the page calls. Every state-changing request needs the session's CSRF token in a header
// and an Origin naming this host; every answer carries a strict Content-Security-Policy.
import type http from 'node:http';
import { status } from '@grpc/grpc-js';
import type { Role } from '../../../libs/auth';
import { CHANNEL_ENUM, CHANNEL_NAMES } from '../../../libs/contact';
import { errorDetails, type Logger } from '../../../libs/observability';
import { type Session, type SessionStore, type SignInThrottle, type StaffMember, type StaffRoster } from '../../../libs/staff';
import { Tier } from '../../../libs/proto';
import { BackendError, type Backends, type Caller } from './backends';
import { customerRef, FormError, forms, parseForm } from './forms';
import { clientAddress, HttpError, originAllowed, type TrustedProxies, readJson as readJsonBody, SECURITY_HEADERS, sendJson, staticFiles } from '../../../libs/web';
import { agentRow, customerCard, historyItem, presenceValue, queueTable, timeline } from './views';


const MAX_BODY = 64 * 1024;
const WORKERS: Role[] = ['agent', 'expert'];
const DESK_ROLES: Role[] = ['agent', 'expert', 'supervisor'];


export interface DeskHttpDeps {
  roster: StaffRoster;
  sessions: SessionStore;
  backends: Backends;
  signInThrottle: SignInThrottle;
  now: () => number;
  secureCookies: boolean;
  /** Load balancers whose X-Forwarded-For names the client for the per-address sign-in limit. */
  trustedProxies: TrustedProxies;
  publicDir: string;
  logger: Logger;
  /** Called when a session ends, so its live socket closes at once. */
  onSignOut(sessionId: string): void;
  ops(req: http.IncomingMessage, res: http.ServerResponse): boolean;
}

export function caller(session: Session): Caller {
  return { id: session.staffId, role: session.role };
}

/** True when the request's Origin names the host it was sent to (same-origin browser request). */
export function sameOrigin(req: http.IncomingMessage): boolean {
  return originAllowed(req.headers.origin, req.headers.host);
}

/** Registers an agent or expert with routing using their roster profile. */
export async function registerWithRouting(backends: Backends, member: StaffMember): Promise<void> {
  await backends.registerAgent(
    { id: member.id, role: member.role },
    {
      agentId: member.id,
      name: member.name,
      tier: member.tier === 2 ? Tier.TIER_EXPERT : Tier.TIER_FRONT_OFFICE,
      skills: Object.entries(member.skills).map(([name, level]) => ({ name, level })),
      languages: member.languages,
      capacity: CHANNEL_NAMES.map((c) => ({ channel: CHANNEL_ENUM[c], active: 0, capacity: member.capacity[c] })),
      totalCapacity: member.capacity.total,
    },
  );
}

export function createDeskHandler(deps: DeskHttpDeps) {
  const { roster, sessions, backends, logger } = deps;
  const files = staticFiles(deps.publicDir);
  const send = sendJson;
  const readJson = (req: http.IncomingMessage) => readJsonBody(req, MAX_BODY);

  async function session(req: http.IncomingMessage): Promise<Session> {
    const found = await sessions.get(sessions.idFromCookie(req.headers.cookie));
    if (!found) throw new HttpError(401, 'not signed in, or the session has expired');
    return found;
  }

  /** Session, Origin and CSRF checks for anything that changes state. */
  async function changing(req: http.IncomingMessage, roles: Role[]): Promise<Session> {
    if (!sameOrigin(req)) throw new HttpError(403, 'request from another origin refused');
    const s = await session(req);
    const token = req.headers['x-csrf-token'];
    if (!sessions.checkCsrf(s.id, typeof token === 'string' ? token : undefined)) throw new HttpError(403, 'missing or wrong CSRF token');
    if (!roles.includes(s.role)) throw new HttpError(403, `a ${s.role} may not do this`);
    return s;
  }

  function me(s: Session) {
    return { staff: { id: s.staffId, name: s.name, role: s.role }, csrf: sessions.csrfToken(s.id), expiresAt: s.expiresAt.getTime() };
  }

  async function signIn(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    if (!sameOrigin(req)) throw new HttpError(403, 'request from another origin refused');
    const ip = clientAddress(req, deps.trustedProxies);
    const input = parseForm(forms.signIn, await readJson(req));
    const decision = deps.signInThrottle.attempt(input.id, ip, deps.now());
    if (!decision.allowed) {
      const wait = Math.max(decision.retryAfterMs, 1000);
      logger.warn({ limit: decision.limit }, 'sign-in attempts limited');
      throw new HttpError(429, `too many sign-in attempts; try again in ${Math.ceil(wait / 60_000)} min`, { 'retry-after': String(Math.ceil(wait / 1000)) });
    }
    const result = await roster.authenticate(input.id, input.password);
    if (result.outcome === 'wrong') throw new HttpError(401, 'wrong id or password');
    deps.signInThrottle.succeeded(input.id, ip);
    if (result.outcome === 'disabled') throw new HttpError(403, 'your account is disabled; ask a supervisor to enable it');
    const member = result.member;
    if (!DESK_ROLES.includes(member.role)) throw new HttpError(403, `the desk is for agents, experts and supervisors; a ${member.role} uses the ops console`);
    let warning = '';
    if (WORKERS.includes(member.role)) {
      try {
        await registerWithRouting(backends, member);
      } catch (err) {
        warning = `routing did not take your profile yet (${err instanceof BackendError ? err.details : 'unavailable'}); the desk retries when it connects`;
        logger.warn({ staffId: member.id, ...errorDetails(err) }, 'registering with routing failed at sign-in');
      }
    }
    const s = await sessions.create(member);
    send(res, 200, { ...me(s), warning }, { 'set-cookie': sessions.cookie(s, deps.secureCookies) });
  }

  type Route = (req: http.IncomingMessage, res: http.ServerResponse) => Promise<void>;
  const action =
    (roles: Role[], run: (c: Caller, body: unknown) => Promise<unknown>): Route =>
    async (req, res) => {
      const s = await changing(req, roles);
      const result = await run(caller(s), await readJson(req));
      send(res, 200, result ?? {});
    };

  const post: Record<string, Route> = {
    '/api/sign-in': signIn,
    '/api/sign-out': async (req, res) => {
      const s = await changing(req, ['agent', 'expert', 'supervisor', 'ops']);
      if (WORKERS.includes(s.role)) await backends.setPresence(caller(s), presenceValue('offline')).catch((err: unknown) => logger.warn(errorDetails(err), 'setting offline at sign-out failed'));
      await sessions.end(s.id);
      deps.onSignOut(s.id);
      send(res, 200, { signedOut: true }, { 'set-cookie': sessions.clearedCookie(deps.secureCookies) });
    },
    '/api/presence': action(WORKERS, async (c, body) => {
      const { presence } = parseForm(forms.presence, body);
      await backends.setPresence(c, presenceValue(presence));
      return { presence };
    }),
    '/api/accept': action(WORKERS, async (c, body) => backends.accept(c, parseForm(forms.conversation, body).conversationId)),
    '/api/decline': action(WORKERS, async (c, body) => backends.decline(c, parseForm(forms.conversation, body).conversationId)),
    '/api/reply': action(WORKERS, async (c, body) => {
      const f = parseForm(forms.reply, body);
      const { outboundMessageId } = await backends.reply(c, f.conversationId, f.text, f.subject);
      return { outboundMessageId };
    }),
    '/api/escalate': action(['agent'], async (c, body) => {
      const f = parseForm(forms.escalate, body);
      return backends.escalate(c, f.conversationId, f.note, f.skill);
    }),
    '/api/transfer': action(WORKERS, async (c, body) => {
      const f = parseForm(forms.transfer, body);
      return backends.transfer(c, f.conversationId, f.toAgentId, f.toQueue, f.note);
    }),
    '/api/hand-back': action(['expert'], async (c, body) => {
      const f = parseForm(forms.handBack, body);
      return backends.handBack(c, f.conversationId, f.note);
    }),
    '/api/resolve': action(WORKERS, async (c, body) => {
      const f = parseForm(forms.resolve, body);
      return backends.resolve(c, f.conversationId, f.disposition);
    }),
    '/api/reassign': action(['supervisor'], async (c, body) => {
      const f = parseForm(forms.reassign, body);
      return backends.reassign(c, f.conversationId, f.toAgentId);
    }),
  };

  const get: Record<string, Route> = {
    '/api/me': async (req, res) => send(res, 200, me(await session(req))),
    '/api/conversation': async (req, res) => {
      const s = await session(req);
      if (!DESK_ROLES.includes(s.role)) throw new HttpError(403, `a ${s.role} may not read conversations here`);
      const url = new URL(req.url ?? '/', 'http://desk');
      const { conversationId } = parseForm(forms.conversation, { conversationId: url.searchParams.get('conversationId') ?? '' });
      const reason = s.role === 'supervisor' ? supervisorReason(url.searchParams.get('reason')) : '';
      // Without a customer id or identity, customer-record reads the conversation's own customer.
      const named = url.searchParams.get('customerId') || url.searchParams.get('identityKind') || url.searchParams.get('identity');
      const ref = named ? customerRef(url.searchParams) : null;
      const context = await backends.customerContext(caller(s), ref, conversationId, reason);
      const customerId = context.customer?.customerId;
      if (!customerId) throw new HttpError(404, 'no customer record for this conversation yet');
      const history = await backends.history(caller(s), customerId, conversationId, reason);
      send(res, 200, { timeline: timeline(history.entries.map(historyItem)), card: customerCard(context) });
    },
    '/api/floor': async (req, res) => {
      const s = await session(req);
      if (s.role !== 'supervisor') throw new HttpError(403, 'the floor view is for supervisors');
      send(res, 200, await floor(backends, caller(s)));
    },
  };

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    const path = (req.url ?? '/').split('?')[0]!;
    try {
      if (deps.ops(req, res)) return;
      if (req.method === 'GET' || req.method === 'HEAD') {
        const file = files.get(path);
        if (file) {
          res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': file.type }).end(req.method === 'HEAD' ? undefined : file.body);
          return;
        }
        const route = get[path];
        if (route) return await route(req, res);
      } else if (req.method === 'POST') {
        const route = post[path];
        if (route) return await route(req, res);
      }
      throw new HttpError(404, `no such page: ${req.method} ${path}`);
    } catch (err) {
      const { code, message, headers } = httpFailure(err);
      if (code >= 500) logger.error({ path, ...errorDetails(err) }, 'desk request failed');
      if (!res.headersSent) send(res, code, { error: message }, headers);
    }
  };
  /** Every API route as "METHOD /path", for the access matrix test. */
  const routes = [...Object.keys(get).map((p) => `GET ${p}`), ...Object.keys(post).map((p) => `POST ${p}`)];
  return Object.assign(handle, { routes });
}

/** A supervisor reads a customer only with a reason, which customer-record writes to its audit log. */
export function supervisorReason(value: string | null): string {
  const reason = (value ?? '').trim();
  if (!reason) throw new HttpError(400, 'give a reason for reading this customer; it is written to the audit log');
  if (reason.length < 3) throw new HttpError(400, 'the reason is too short: say in a few words why you read this customer');
  if (reason.length > 500) throw new HttpError(400, 'the reason is longer than 500 characters');
  if (/[\u0000-\u001f\u007f]/.test(reason)) throw new HttpError(400, 'the reason must be plain text on one line');
  return reason;
}

export async function floor(backends: Backends, c: Caller) {
  const [agents, queues] = await Promise.all([backends.listAgents(c), backends.queueStats(c)]);
  return { agents: agents.agents.map(agentRow), queues: queueTable(queues.queues), at: Date.now() };
}

/** What an error becomes for the browser: a status and a sentence. */
export function httpFailure(err: unknown): { code: number; message: string; headers: Record<string, string> } {
  if (err instanceof HttpError) return { code: err.status, message: err.message, headers: err.headers };
  if (err instanceof FormError) return { code: 400, message: err.message, headers: {} };
  if (err instanceof BackendError) {
    const code =
      {
        [status.INVALID_ARGUMENT]: 400,
        [status.NOT_FOUND]: 404,
        [status.FAILED_PRECONDITION]: 409,
        [status.PERMISSION_DENIED]: 403,
        [status.ALREADY_EXISTS]: 409,
      }[err.code as number] ?? 503;
    return { code, message: code === 503 ? `${err.service} is not answering; try again` : err.details, headers: {} };
  }
  return { code: 500, message: 'the desk could not complete this; it is logged', headers: {} };
}
