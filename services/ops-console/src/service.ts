// Wiring of the ops console: the staff roster and sign-in, what it reads to show (feeds.ts), the
// routes, all behind one port.
import { fileURLToPath } from 'node:url';
import { closeServer, createOpsHandler, listen } from '#libs/observability';
import { connectKafka, connectMongo, type ServiceContext } from '#libs/service';
import { SignInThrottle, type StaffRoster } from '#libs/staff';
import { signInSettings, staticFiles, transportSecurity } from '#libs/web';
import { ReplayAudit } from './audit';
import type { OpsConsoleConfig } from './config';
import { startFeeds } from './feeds';
import { createConsoleServer } from './http';
import type { LiveFeed } from './live-feed';
import type { ReportFold } from './reports';
import type { QueueStatsSource } from './routing-stats';
import { consoleRoutes } from './routes';
import { consoleSignIn } from './sign-in';
import { connectStaff } from './staff';

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
  /** The reports' projection and the live feed (the erasure tests look at what they hold). */
  reports: ReportFold;
  feed: LiveFeed;
  /** Every API route as "METHOD /path", for the access matrix test. */
  apiRoutes: string[];
}

export async function startOpsConsole(ctx: ServiceContext, config: OpsConsoleConfig, overrides: OpsConsoleOverrides = {}): Promise<OpsConsole> {
  const logger = ctx.logger.child({ component: 'ops-console' });
  const now = overrides.now ?? Date.now;
  const settings = signInSettings('OPS_CONSOLE', config);
  const { db } = await connectMongo(ctx, config);
  const audit = new ReplayAudit(db, overrides.auditCollection);
  const { roster, sessions } = await connectStaff(ctx, config, settings.sessionTtlMs, now);
  const security = transportSecurity(config.OPS_CONSOLE_ORIGIN, settings);
  const throttle = new SignInThrottle(settings.limits);
  const signIn = consoleSignIn({
    roster,
    sessions,
    throttle,
    trustedProxies: config.TRUSTED_PROXIES,
    origin: config.OPS_CONSOLE_ORIGIN,
    secureCookies: security.secureCookies,
    now,
    logger,
  });

  const kafka = await connectKafka(ctx, config);
  const feeds = await startFeeds(ctx, config, logger, now, overrides.queueStats);
  const publishRaw = kafka.producer.publishRaw.bind(kafka.producer);
  const routes = consoleRoutes({
    ...feeds,
    signIn,
    sessions,
    sessionCheckMs: settings.sessionCheckMs,
    traceUrlTemplate: config.OPS_CONSOLE_TRACE_URL,
    audit,
    publishRaw,
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
  return {
    port,
    url: `http://${config.BIND_HOST}:${port}`,
    audit,
    roster,
    reports: feeds.reports,
    feed: feeds.feed,
    apiRoutes: routes.map((r) => `${r.method} ${r.name}`),
  };
}
