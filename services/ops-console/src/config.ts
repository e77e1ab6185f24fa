import { optionalSigningKeyConfig } from '../../../libs/auth';
import { commonConfig, durationMs, loadConfig, port, positiveInt, z } from '../../../libs/config';
import { metricsConfig } from '../../../libs/observability';
import { optionalBool, trustedProxyConfig } from '../../../libs/web';

export const opsConsoleConfig = {
  ...commonConfig,
  ...trustedProxyConfig,
  ...metricsConfig,
  /** The console's own key, to sign its calls to routing; without it routing's queue statistics are not shown. */
  ...optionalSigningKeyConfig('ops-console'),
  HTTP_PORT: port(8090),
  /** Staff roster and sessions, shared with agent-desk. */
  STAFF_DB: z.string().regex(/^[A-Za-z0-9_-]{1,60}$/, 'must be 1-60 letters, digits, _ or -').default('cc_staff'),
  /** Keys the CSRF tokens, the same on every instance, used for nothing else. */
  OPS_CONSOLE_SESSION_SECRET: z.string({ message: 'is required: it keys the console’s CSRF tokens' }).min(32, 'must be at least 32 characters'),
  OPS_CONSOLE_SESSION_TTL_MS: durationMs(8 * 3600_000),
  /** The console's public origin (https://ops.example.com) when behind a proxy; else this host. */
  OPS_CONSOLE_ORIGIN: z.string().regex(/^https?:\/\/[^/\s]+$/, 'must be scheme://host[:port] without a path').optional(),
  /** Secure session cookie and Strict-Transport-Security; unset, they are on when OPS_CONSOLE_ORIGIN is https. */
  OPS_CONSOLE_SECURE_COOKIE: optionalBool(),
  OPS_CONSOLE_HSTS: optionalBool(),
  /** Wrong passwords allowed per window for one staff id from one address, and from one address. */
  OPS_SIGNIN_MAX_PER_ID: positiveInt(5),
  OPS_SIGNIN_MAX_PER_IP: positiveInt(30),
  /** Wrong passwords for one staff id from all addresses, after which only addresses that have not failed for it may try. */
  OPS_SIGNIN_MAX_PER_ID_TOTAL: positiveInt(50),
  /** How often an open live stream's session is checked again. */
  OPS_SESSION_CHECK_MS: positiveInt(2000),
  OPS_SIGNIN_WINDOW_MS: durationMs(15 * 60_000),
  ROUTING_GRPC_ADDR: z.string().regex(/^[^\s:]+:\d{1,5}$/, 'must be host:port').default('127.0.0.1:50052'),
  /** The service level the charts compare against (routing's target, 0..1). */
  OPS_SERVICE_LEVEL_TARGET: z.coerce.number().min(0, 'must be 0..1').max(1, 'must be 0..1').default(0.8),
  OPS_QUEUE_STATS_INTERVAL_MS: durationMs(5000),
  OPS_LAG_INTERVAL_MS: durationMs(10_000),
};

export type OpsConsoleConfig = ReturnType<typeof loadOpsConsoleConfig>;

export function loadOpsConsoleConfig(env: Record<string, string | undefined> = process.env) {
  const config = loadConfig(opsConsoleConfig, env);
  return { ...config, sessionSecret: config.OPS_CONSOLE_SESSION_SECRET };
}
