// Wiring of the ops console: sign-in against the staff roster, the live event stream over
// server-sent events, charts, conversation timelines, and the dead-letter topic with replay.
import http from 'node:http';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel } from 'kafkajs';
import { MongoClient } from 'mongodb';
import { closeServer, createOpsHandler, errorDetails, listen } from '../../../libs/observability';
import { connectKafka, connectMongo, type ServiceContext } from '../../../libs/service';
import { SessionStore, SignInThrottle, StaffRoster, type Session } from '../../../libs/staff';
import { applyTransportSecurity, clientAddress as clientAddressOf, HttpError, originAllowed, readJson as readJsonBody, SECURITY_HEADERS, sendJson, staticFiles, transportSecurity } from '../../../libs/web';
import { consoleRole } from './access';
import { ReplayAudit } from './audit';
import { ChartAggregator } from './charts';
import type { OpsConsoleConfig } from './config';
import { deadLetterForRole, replayPlan, ReplayError, shapeDeadLetter } from './dead-letters';
import { FilterError, matchesFilter, parseConversationId, parseFilter, type StreamFilter } from './filter';
import { consumerLag, DeadLetterStore, readConversationTimeline, startLiveTail } from './kafka-io';
import { conversationOf, type DescribedRecord } from './records';
import { redactForRole, type ConsoleRole } from './redact';
import { routingQueueStats, type QueueStatsSource } from './routing-stats';



/** How many recent events a newly opened stream starts with. */
const RECENT_EVENTS = 1000;
const RECENT_CONVERSATIONS = 5000;
const RECENT_PER_CONVERSATION = 100;
const MAX_BODY_BYTES = 16 * 1024;
const MAX_TIMELINES = 2;
const MAX_STREAM_BUFFER_BYTES = 4 * 1024 * 1024;

export interface OpsConsoleOverrides {
  /** Replaces routing's gRPC statistics (tests without a routing service). */
  queueStats?: QueueStatsSource | null;
  /** Collection for the replay audit. */
  auditCollection?: string;
  now?: () => number;
}

export interface OpsConsole {
  port: number;
  url: string;
  audit: ReplayAudit;
  roster: StaffRoster;
  /** Every API route as "METHOD /path", for the access matrix test. */
  apiRoutes: string[];
}

/** The sign-in body: an id and a password, each a non-empty string of bounded length. */
function parseSignIn(body: unknown): { id: string; password: string } {
  const { id, password } = (typeof body === 'object' && body !== null ? body : {}) as { id?: unknown; password?: unknown };
  if (typeof id !== 'string' || typeof password !== 'string' || !id.trim() || !password) throw new HttpError(400, 'id and password are required');
  if (id.length > 64) throw new HttpError(400, 'id is longer than 64 characters');
  if (password.length > 256) throw new HttpError(400, 'password is longer than 256 characters');
  return { id: id.trim().toLowerCase(), password };
}

interface LiveEvent {
  record: DescribedRecord;
  receivedAt: number;
}


export async function startOpsConsole(ctx: ServiceContext, config: OpsConsoleConfig, overrides: OpsConsoleOverrides = {}): Promise<OpsConsole> {
  const log = ctx.logger.child({ component: 'ops-console' });
  const now = overrides.now ?? Date.now;
  const files = staticFiles(fileURLToPath(new URL('../public/', import.meta.url)));

  const { db } = await connectMongo(ctx, config);
  const audit = new ReplayAudit(db, overrides.auditCollection);
  const staffClient = new MongoClient(config.MONGODB_URI, { serverSelectionTimeoutMS: 5000, appName: `${ctx.name}-staff` });
  await staffClient.connect();
  ctx.onStop('mongodb staff', () => staffClient.close());
  const staffDb = staffClient.db(config.STAFF_DB);
  const roster = new StaffRoster(staffDb);
  const sessions = new SessionStore(staffDb, { app: 'ops-console', secret: config.sessionSecret, ttlMs: config.OPS_CONSOLE_SESSION_TTL_MS, now });
  // Wrong passwords per staff id and address, per address, and per id overall, as agent-desk.
  const signInThrottle = new SignInThrottle({
    perIdAndAddress: config.OPS_SIGNIN_MAX_PER_ID,
    perAddress: config.OPS_SIGNIN_MAX_PER_IP,
    perIdTotal: config.OPS_SIGNIN_MAX_PER_ID_TOTAL,
    windowMs: config.OPS_SIGNIN_WINDOW_MS,
  });

  const kafka = await connectKafka(ctx, config);
  // A plain client for the console's own throw-away consumers (no logs per rebalance).
  const tailKafka = new Kafka({ clientId: `${ctx.name}-${ctx.instanceId}-tail`, brokers: config.KAFKA_BROKERS, logLevel: logLevel.ERROR });

  // --- events in --------------------------------------------------------------------------------
  const charts = new ChartAggregator({ serviceLevelTarget: config.OPS_SERVICE_LEVEL_TARGET });
  const recent: LiveEvent[] = [];
  // Busy pipelines push a conversation out of `recent` within seconds; a stream filtered by
  // conversation starts from this per-conversation memory instead.
  const recentByConversation = new Map<string, LiveEvent[]>();
  const streams = new Set<{ filter: StreamFilter; role: ConsoleRole; send: (e: LiveEvent) => void }>();
  const deadLetters = new DeadLetterStore(tailKafka);
  await deadLetters.start();
  ctx.onStop('dead-letter reader', () => deadLetters.stop());
  const live = await startLiveTail(tailKafka, log, (record) => {
    const event: LiveEvent = { record, receivedAt: now() };
    charts.addRecord(record, event.receivedAt);
    recent.push(event);
    if (recent.length > RECENT_EVENTS) recent.shift();
    const conversationId = conversationOf(record);
    if (conversationId) {
      const events = recentByConversation.get(conversationId) ?? [];
      recentByConversation.delete(conversationId);
      events.push(event);
      if (events.length > RECENT_PER_CONVERSATION) events.shift();
      recentByConversation.set(conversationId, events);
      if (recentByConversation.size > RECENT_CONVERSATIONS) recentByConversation.delete(recentByConversation.keys().next().value as string);
    }
    for (const s of streams) if (matchesFilter(record, s.filter)) s.send(event);
  });
  ctx.onStop('live tail', () => live.stop());

  // --- polled sources ---------------------------------------------------------------------------
  const queueStats =
    overrides.queueStats !== undefined
      ? overrides.queueStats
      : config.AUTH_PRIVATE_KEY_FILE
        ? routingQueueStats(config.ROUTING_GRPC_ADDR, config.AUTH_PRIVATE_KEY_FILE)
        : null;
  if (!queueStats) log.warn('AUTH_PRIVATE_KEY_FILE is not set: queue statistics from routing are not shown');
  const sourceStatus = { queueStats: queueStats ? 'waiting' : 'not configured', lag: 'waiting' };
  const timers: NodeJS.Timeout[] = [];
  const poll = (label: 'queueStats' | 'lag', intervalMs: number, run: () => Promise<void>) => {
    let busy = false;
    const tick = async () => {
      if (busy) return;
      busy = true;
      try {
        await run();
        sourceStatus[label] = 'ok';
      } catch (err) {
        if (sourceStatus[label] !== 'unavailable') log.warn({ source: label, ...errorDetails(err) }, 'ops console source unavailable');
        sourceStatus[label] = 'unavailable';
      } finally {
        busy = false;
      }
    };
    void tick();
    timers.push(setInterval(() => void tick(), intervalMs));
  };
  if (queueStats) {
    poll('queueStats', config.OPS_QUEUE_STATS_INTERVAL_MS, async () => charts.setQueueStats(await queueStats.fetch(), now()));
    ctx.onStop('routing client', () => queueStats.close());
  }
  const admin = tailKafka.admin();
  await admin.connect();
  ctx.onStop('kafka admin', () => admin.disconnect());
  poll('lag', config.OPS_LAG_INTERVAL_MS, async () => charts.setLag(await consumerLag(admin), now()));
  ctx.onStop('pollers', () => timers.forEach(clearInterval));

  // --- HTTP -------------------------------------------------------------------------------------
  const security = transportSecurity(config.OPS_CONSOLE_ORIGIN, { secureCookies: config.OPS_CONSOLE_SECURE_COOKIE, hsts: config.OPS_CONSOLE_HSTS });
  const secure = security.secureCookies;

  const readJson = (req: http.IncomingMessage) => readJsonBody(req, MAX_BODY_BYTES);

  const checkOrigin = (req: http.IncomingMessage) => {
    if (!originAllowed(req.headers.origin, req.headers.host, config.OPS_CONSOLE_ORIGIN)) throw new HttpError(403, 'request from another origin refused');
  };

  const requireSession = async (req: http.IncomingMessage): Promise<Session & { consoleRole: ConsoleRole }> => {
    const session = await sessions.get(sessions.idFromCookie(req.headers.cookie));
    if (!session) throw new HttpError(401, 'sign in first');
    const role = consoleRole(session.role);
    if (!role) throw new HttpError(403, 'the ops console is for the ops and supervisor roles');
    return { ...session, consoleRole: role };
  };

  /** Every state-changing request: a session, the console's own Origin, and the CSRF token header. */
  const requireWrite = async (req: http.IncomingMessage) => {
    checkOrigin(req);
    const session = await requireSession(req);
    const token = req.headers['x-csrf-token'];
    if (!sessions.checkCsrf(session.id, typeof token === 'string' ? token : undefined)) throw new HttpError(403, 'missing or wrong CSRF token');
    return session;
  };

  let timelinesRunning = 0;
  const clientAddress = (req: http.IncomingMessage) => clientAddressOf(req, config.TRUSTED_PROXIES);

  const signIn = async (req: http.IncomingMessage, res: http.ServerResponse) => {
    checkOrigin(req);
    const { id, password } = parseSignIn(await readJson(req));
    const ip = clientAddress(req);
    const decision = signInThrottle.attempt(id, ip, now());
    if (!decision.allowed) {
      const wait = Math.max(decision.retryAfterMs, 1000);
      log.warn({ limit: decision.limit }, 'ops console sign-in attempts limited');
      throw new HttpError(429, 'too many sign-in attempts; try again later', { 'retry-after': String(Math.ceil(wait / 1000)) });
    }
    const result = await roster.authenticate(id, password);
    if (result.outcome === 'wrong') throw new HttpError(401, 'wrong staff id or password');
    signInThrottle.succeeded(id, ip);
    if (result.outcome === 'disabled') throw new HttpError(403, 'your account is disabled; ask a supervisor to enable it');
    const member = result.member;
    if (!consoleRole(member.role)) {
      log.info({ staffId: member.id, role: member.role }, 'ops console sign-in refused for role');
      throw new HttpError(403, 'the ops console is for the ops and supervisor roles');
    }
    const session = await sessions.create(member);
    log.info({ staffId: member.id, role: member.role }, 'signed in to the ops console');
    sendJson(res, 200, { staffId: member.id, name: member.name, role: member.role, csrfToken: sessions.csrfToken(session.id) }, { 'set-cookie': sessions.cookie(session, secure) });
  };

  const stream = async (req: http.IncomingMessage, res: http.ServerResponse, url: URL) => {
    const session = await requireSession(req);
    const filter = parseFilter(url.searchParams);
    res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': 'text/event-stream; charset=utf-8', connection: 'keep-alive' });
    const send = (e: LiveEvent) => {
      // A browser that cannot keep up is cut off rather than buffered without bound; EventSource
      // reconnects by itself and starts again from the recent records.
      if (res.writableLength > MAX_STREAM_BUFFER_BYTES) {
        res.end();
        return;
      }
      res.write(`event: record\ndata: ${JSON.stringify({ ...redactForRole(e.record, session.consoleRole), receivedAt: e.receivedAt })}\n\n`);
    };
    const start = filter.conversationId ? (recentByConversation.get(filter.conversationId) ?? []) : recent;
    for (const e of start) if (matchesFilter(e.record, filter)) send(e);
    const entry = { filter, role: session.consoleRole, send };
    streams.add(entry);
    // The session is checked again every few seconds, so signing out, expiry, or the person
    // being disabled, removed or changed on any instance ends the stream too; comments every
    // 15 s keep proxies from closing an idle stream.
    let checks = 0;
    const keepAlive = setInterval(() => {
      checks++;
      void sessions.get(session.id).then(
        (s) => {
          if (!s) res.end();
          else if ((checks * config.OPS_SESSION_CHECK_MS) % 15_000 < config.OPS_SESSION_CHECK_MS) res.write(': keep-alive\n\n');
        },
        () => res.end(),
      );
    }, config.OPS_SESSION_CHECK_MS);
    const close = () => {
      clearInterval(keepAlive);
      streams.delete(entry);
    };
    req.on('close', close);
    res.on('close', close);
  };

  const replay = async (req: http.IncomingMessage, res: http.ServerResponse, partition: number, offset: string) => {
    const session = await requireWrite(req);
    if (session.consoleRole !== 'ops') throw new HttpError(403, 'replaying dead letters is for the ops role');
    const raw = deadLetters.get(partition, offset);
    if (!raw) throw new HttpError(404, `no dead letter at partition ${partition} offset ${offset}`);
    let plan;
    try {
      plan = replayPlan(raw);
    } catch (err) {
      if (err instanceof ReplayError) throw new HttpError(422, err.message);
      throw err;
    }
    const view = shapeDeadLetter(raw);
    const auditId = await audit.begin({
      by: session.staffId,
      role: session.role,
      deadLetter: { partition, offset },
      original: view.original,
      key: view.key,
      ceId: view.ceId,
      sha256: view.sha256,
    });
    try {
      await kafka.producer.publishRaw(plan.topic, plan.key, plan.value, plan.headers);
    } catch (err) {
      await audit.complete(auditId, 'failed', err instanceof Error ? err.message : String(err));
      throw err;
    }
    await audit.complete(auditId, 'replayed');
    log.info({ staffId: session.staffId, dlqPartition: partition, dlqOffset: offset, topic: plan.topic }, 'dead letter replayed');
    sendJson(res, 200, { replayedTo: plan.topic, auditId });
  };

  const listDeadLetters = async (req: http.IncomingMessage, res: http.ServerResponse) => {
    const session = await requireSession(req);
    const replays = new Map<string, { by: string; at: string }[]>();
    for (const e of await audit.recent()) {
      if (e.outcome !== 'replayed') continue;
      const k = `${e.deadLetter.partition}:${e.deadLetter.offset}`;
      replays.set(k, [{ by: e.by, at: e.at.toISOString() }, ...(replays.get(k) ?? [])]);
    }
    const records = deadLetters.list().map((raw) => ({ ...deadLetterForRole(shapeDeadLetter(raw), session.consoleRole), replays: replays.get(`${raw.partition}:${raw.offset}`) ?? [] }));
    sendJson(res, 200, { count: deadLetters.count, records, canReplay: session.consoleRole === 'ops' });
  };

  type ApiRoute = { method: 'GET' | 'POST'; path: string | RegExp; name: string; run(req: http.IncomingMessage, res: http.ServerResponse, match: RegExpExecArray | string[], url: URL): Promise<void> };
  const timelineRoute = async (req: http.IncomingMessage, res: http.ServerResponse, match: RegExpExecArray | string[]) => {
    const session = await requireSession(req);
    let conversationId: string;
    try {
      conversationId = parseConversationId(decodeURIComponent(match[1]!));
    } catch (err) {
      if (err instanceof URIError) throw new HttpError(400, 'conversation id is not valid URL encoding');
      throw err;
    }
    // Each timeline is a full scan of the topics: a few at a time per instance is plenty.
    if (timelinesRunning >= MAX_TIMELINES) throw new HttpError(429, 'other timelines are being read; try again in a few seconds', { 'retry-after': '5' });
    timelinesRunning++;
    let result;
    try {
      result = await readConversationTimeline(tailKafka, conversationId);
    } finally {
      timelinesRunning--;
    }
    return sendJson(res, 200, { ...result, conversationId, records: result.records.map((r) => redactForRole(r, session.consoleRole)) });
  };
  const api: ApiRoute[] = [
    { method: 'POST', path: '/api/sign-in', name: '/api/sign-in', run: (req, res) => signIn(req, res) },
    {
      method: 'POST',
      path: '/api/sign-out',
      name: '/api/sign-out',
      run: async (req, res) => {
        const session = await requireWrite(req);
        await sessions.end(session.id);
        return sendJson(res, 200, { signedOut: true }, { 'set-cookie': sessions.clearedCookie(secure) });
      },
    },
    {
      method: 'GET',
      path: '/api/session',
      name: '/api/session',
      run: async (req, res) => {
        const session = await requireSession(req);
        return sendJson(res, 200, { staffId: session.staffId, name: session.name, role: session.role, csrfToken: sessions.csrfToken(session.id), expiresAt: session.expiresAt.toISOString() });
      },
    },
    { method: 'GET', path: '/api/stream', name: '/api/stream', run: (req, res, _m, url) => stream(req, res, url) },
    {
      method: 'GET',
      path: '/api/charts',
      name: '/api/charts',
      run: async (req, res) => {
        await requireSession(req);
        return sendJson(res, 200, { ...charts.snapshot(now()), deadLettersOnTopic: deadLetters.count, sources: sourceStatus });
      },
    },
    { method: 'GET', path: /^\/api\/conversations\/([^/]+)\/timeline$/, name: '/api/conversations/:id/timeline', run: timelineRoute },
    { method: 'GET', path: '/api/dead-letters', name: '/api/dead-letters', run: (req, res) => listDeadLetters(req, res) },
    { method: 'POST', path: /^\/api\/dead-letters\/(\d{1,6})\/(\d{1,20})\/replay$/, name: '/api/dead-letters/:partition/:offset/replay', run: (req, res, m) => replay(req, res, Number(m[1]), m[2]!) },
  ];

  const route = async (req: http.IncomingMessage, res: http.ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://console.invalid');
    const path = url.pathname;
    const method = req.method ?? 'GET';
    const file = files.get(path);
    if (file && (method === 'GET' || method === 'HEAD')) {
      res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': file.type, 'cache-control': 'no-cache' }).end(method === 'HEAD' ? undefined : file.body);
      return;
    }
    for (const r of api) {
      const match = r.method === method && (typeof r.path === 'string' ? (r.path === path ? [path] : null) : r.path.exec(path));
      if (match) return r.run(req, res, match, url);
    }
    throw new HttpError(404, 'not found');
  };

  // Staff browsers reach this port: /metrics needs the bearer token here.
  const ops = createOpsHandler(ctx.metrics, ctx.readiness, { publicPort: { metricsToken: config.METRICS_TOKEN } });
  const server = http.createServer((req, res) => {
    applyTransportSecurity(res, security);
    if (ops(req, res)) return;
    route(req, res).catch((err: unknown) => {
      if (err instanceof FilterError) err = new HttpError(400, err.message);
      if (err instanceof HttpError) {
        if (!res.headersSent) sendJson(res, err.status, { error: err.message }, err.headers);
        else res.end();
        return;
      }
      log.error({ path: (req.url ?? '').split('?')[0], ...errorDetails(err) }, 'ops console request failed');
      if (!res.headersSent) sendJson(res, 500, { error: 'internal error' });
      else res.end();
    });
  });
  const port = await listen(server, config.HTTP_PORT, config.BIND_HOST);
  ctx.onStop('ops console http', async () => {
    server.closeAllConnections();
    await closeServer(server);
  });
  return { port, url: `http://${config.BIND_HOST}:${port}`, audit, roster, apiRoutes: api.map((r) => `${r.method} ${r.name}`) };
}
