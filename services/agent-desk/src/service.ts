// Wiring: configuration → staff store, gRPC clients → HTTP + WebSocket on one port.
import http from 'node:http';
import { fileURLToPath } from 'node:url';
import { MongoClient } from 'mongodb';
import { closeServer, createOpsHandler, errorDetails, listen } from '#libs/observability';
import type { ServiceContext } from '#libs/service';
import { SessionStore, SignInThrottle, StaffRoster } from '#libs/staff';
import { applyTransportSecurity, signInSettings, transportSecurity } from '#libs/web';
import { Backends } from './backends';
import { AttachmentContent } from './attachments';
import { CallControls } from './call-controls';
import { CannedAnswerStore } from './canned-store';
import type { AgentDeskConfig } from './config';
import { createDeskHandler } from './http';
import { createLive } from './live';
import { deskRoutes } from './routes';
import { followDeliveries } from './delivery-follow';
import { deskSignIn } from './sign-in';
import { RecordingMedia } from './recordings';
import { voiceTokenKeys } from './voice-routes';
import { parseTemplates } from './whatsapp-templates';

export { agentDeskConfig, type AgentDeskConfig } from './config';

export interface RunningAgentDesk {
  port: number;
  roster: StaffRoster;
  sessions: SessionStore;
  /** Every API route as "METHOD /path", for the access matrix test. */
  apiRoutes: string[];
}

export async function startAgentDesk(ctx: ServiceContext, config: AgentDeskConfig, overrides: { now?: () => number } = {}): Promise<RunningAgentDesk> {
  const settings = signInSettings('AGENT_DESK', config);
  const mongo = new MongoClient(config.MONGODB_URI, { serverSelectionTimeoutMS: 5000, appName: ctx.name });
  await mongo.connect();
  ctx.onStop('mongodb', () => mongo.close());
  const db = mongo.db(config.STAFF_DB);
  await db.command({ ping: 1 });
  ctx.readiness.add('mongodb', async () => (await db.command({ ping: 1 })).ok === 1);
  const roster = new StaffRoster(db);
  const canned = new CannedAnswerStore(db, { perPerson: config.AGENT_DESK_CANNED_PER_PERSON, shared: config.AGENT_DESK_CANNED_SHARED }, overrides.now);
  const sessions = new SessionStore(db, { app: 'agent-desk', secret: settings.sessionSecret, ttlMs: settings.sessionTtlMs, now: overrides.now });

  const backends = new Backends(config.ROUTING_GRPC_ADDR, config.CUSTOMER_RECORD_GRPC_ADDR, config.AUTH_PRIVATE_KEY_FILE);
  ctx.onStop('grpc clients', () => backends.close());

  const voiceKeys = voiceTokenKeys(config);
  const recordings = new RecordingMedia(voiceKeys && { ...voiceKeys, apiBase: config.TWILIO_API_BASE_URL });
  const deliveries = config.AGENT_DESK_FOLLOW_DELIVERIES ? await followDeliveries(ctx, config) : undefined;
  const security = transportSecurity(config.AGENT_DESK_PUBLIC_URL, settings);
  const live = createLive({
    sessions,
    roster,
    backends,
    logger: ctx.logger,
    supervisorRefreshMs: config.SUPERVISOR_REFRESH_MS,
    watchPollMs: config.AGENT_DESK_WATCH_POLL_MS,
    sessionCheckMs: settings.sessionCheckMs,
  });
  const signIn = deskSignIn({
    roster,
    sessions,
    backends,
    throttle: new SignInThrottle(settings.limits),
    trustedProxies: config.TRUSTED_PROXIES,
    secureCookies: security.secureCookies,
    now: overrides.now ?? Date.now,
    logger: ctx.logger,
    onSignOut: (id) => live.endSession(id),
  });
  const handle = createDeskHandler({
    routes: deskRoutes({
      signIn,
      sessions,
      backends,
      canned,
      roster,
      voiceKeys,
      recordings,
      callControls: new CallControls(config.SMS_VOICE_URL, config.AUTH_PRIVATE_KEY_FILE),
      logger: ctx.logger,
      notices: { perSecond: config.AGENT_DESK_NOTICE_PER_SECOND, maxCustomers: config.AGENT_DESK_NOTICE_MAX_CUSTOMERS },
      outreach: { whatsappTemplates: parseTemplates(config.AGENT_DESK_WHATSAPP_TEMPLATES_JSON), deliveries },
      attachments: new AttachmentContent({ email: config.EMAIL_CONTENT_URL, chat: config.CHAT_CONTENT_URL }, config.AUTH_PRIVATE_KEY_FILE),
      replyFiles: { maxBytes: config.AGENT_DESK_REPLY_FILE_MAX_BYTES, perMinute: config.AGENT_DESK_REPLY_FILES_PER_MINUTE },
    }),
    publicDir: fileURLToPath(new URL('../public', import.meta.url)),
    logger: ctx.logger,
    // Agents' browsers reach this port: /metrics needs the bearer token here.
    ops: createOpsHandler(ctx.metrics, ctx.readiness, { publicPort: { metricsToken: config.METRICS_TOKEN } }),
  });
  const server = http.createServer((req, res) => {
    applyTransportSecurity(res, security);
    handle(req, res).catch((err: unknown) => {
      ctx.logger.error(errorDetails(err), 'desk request failed');
      if (!res.headersSent) res.writeHead(500).end();
    });
  });
  server.on('upgrade', (req, socket, head) => live.handleUpgrade(req, socket, head));
  const port = await listen(server, config.HTTP_PORT, config.BIND_HOST);
  ctx.onStop('desk http', async () => {
    live.close();
    server.closeAllConnections();
    await closeServer(server);
  });
  return { port, roster, sessions, apiRoutes: handle.routes };
}
