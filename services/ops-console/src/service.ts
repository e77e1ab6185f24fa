// Wiring of the ops console: the staff roster and sign-in, the live tail into the charts and the
// stream, the dead-letter topic, routing's statistics and lag on a timer, all behind one port.
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel } from 'kafkajs';
import { MongoClient } from 'mongodb';
import { closeServer, createOpsHandler, listen } from '#libs/observability';
import { connectKafka, connectMongo, type ServiceContext } from '#libs/service';
import { SessionStore, SignInThrottle, StaffRoster } from '#libs/staff';
import { signInSettings, staticFiles, transportSecurity } from '#libs/web';
import { ReplayAudit } from './audit';
import { ChartAggregator } from './charts';
import type { OpsConsoleConfig } from './config';
import { createConsoleServer } from './http';
import { DeadLetterStore, startLiveTail } from './kafka-io';
import { LiveFeed } from './live-feed';
import { routingQueueStats, type QueueStatsSource } from './routing-stats';
import { consoleRoutes } from './routes';
import { consoleSignIn } from './sign-in';
import { PolledSources } from './sources';

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

export async function startOpsConsole(ctx: ServiceContext, config: OpsConsoleConfig, overrides: OpsConsoleOverrides = {}): Promise<OpsConsole> {
  const logger = ctx.logger.child({ component: 'ops-console' });
  const now = overrides.now ?? Date.now;
  const settings = signInSettings('OPS_CONSOLE', config);
  const { db } = await connectMongo(ctx, config);
  const audit = new ReplayAudit(db, overrides.auditCollection);
  const staffClient = new MongoClient(config.MONGODB_URI, { serverSelectionTimeoutMS: 5000, appName: `${ctx.name}-staff` });
  await staffClient.connect();
  ctx.onStop('mongodb staff', () => staffClient.close());
  const roster = new StaffRoster(staffClient.db(config.STAFF_DB));
  const sessions = new SessionStore(staffClient.db(config.STAFF_DB), { app: 'ops-console', secret: config.sessionSecret, ttlMs: settings.sessionTtlMs, now });
  const security = transportSecurity(config.OPS_CONSOLE_ORIGIN, settings);
  const signIn = consoleSignIn({
    roster,
    sessions,
    throttle: new SignInThrottle(settings.limits),
    trustedProxies: config.TRUSTED_PROXIES,
    origin: config.OPS_CONSOLE_ORIGIN,
    secureCookies: security.secureCookies,
    now,
    logger,
  });

  const kafka = await connectKafka(ctx, config);
  // A plain client for the console's own throw-away consumers (no logs per rebalance).
  const tailKafka = new Kafka({ clientId: `${ctx.name}-${ctx.instanceId}-tail`, brokers: config.KAFKA_BROKERS, logLevel: logLevel.ERROR });
  const charts = new ChartAggregator({ serviceLevelTarget: config.OPS_SERVICE_LEVEL_TARGET });
  const feed = new LiveFeed();
  const deadLetters = new DeadLetterStore(tailKafka);
  await deadLetters.start();
  ctx.onStop('dead-letter reader', () => deadLetters.stop());
  const live = await startLiveTail(tailKafka, logger, (record) => charts.addRecord(record, feed.add(record, now()).receivedAt));
  ctx.onStop('live tail', () => live.stop());

  const queueStats =
    overrides.queueStats !== undefined
      ? overrides.queueStats
      : config.AUTH_PRIVATE_KEY_FILE
        ? routingQueueStats(config.ROUTING_GRPC_ADDR, config.AUTH_PRIVATE_KEY_FILE)
        : null;
  if (queueStats) ctx.onStop('routing client', () => queueStats.close());
  else logger.warn('AUTH_PRIVATE_KEY_FILE is not set: queue statistics from routing are not shown');
  const admin = tailKafka.admin();
  await admin.connect();
  ctx.onStop('kafka admin', () => admin.disconnect());
  const sources = new PolledSources({
    charts,
    queueStats,
    admin,
    queueStatsIntervalMs: config.OPS_QUEUE_STATS_INTERVAL_MS,
    lagIntervalMs: config.OPS_LAG_INTERVAL_MS,
    now,
    logger,
  });
  sources.start();
  ctx.onStop('pollers', () => sources.stop());

  const routes = consoleRoutes({
    signIn,
    sessions,
    sessionCheckMs: settings.sessionCheckMs,
    feed,
    charts,
    sources,
    deadLetters,
    audit,
    publishRaw: (...record) => kafka.producer.publishRaw(...record),
    tailKafka,
    now,
    logger,
  });
  const server = createConsoleServer({
    routes,
    files: staticFiles(fileURLToPath(new URL('../public/', import.meta.url))),
    security,
    // Staff browsers reach this port: /metrics needs the bearer token here.
    ops: createOpsHandler(ctx.metrics, ctx.readiness, { publicPort: { metricsToken: config.METRICS_TOKEN } }),
    logger,
  });
  const port = await listen(server, config.HTTP_PORT, config.BIND_HOST);
  ctx.onStop('ops console http', async () => {
    server.closeAllConnections();
    await closeServer(server);
  });
  return { port, url: `http://${config.BIND_HOST}:${port}`, audit, roster, apiRoutes: routes.map((r) => `${r.method} ${r.name}`) };
}
