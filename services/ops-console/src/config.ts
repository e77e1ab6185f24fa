import { optionalSigningKeyConfig } from '#libs/auth';
import { commonConfig, durationMs, loadConfig, port, z } from '#libs/config';
import { followErasuresConfig } from '#libs/erasure';
import { metricsConfig } from '#libs/observability';
import { staffDbConfig } from '#libs/staff';
import { signInConfig, trustedProxyConfig } from '#libs/web';

export const opsConsoleConfig = {
  ...commonConfig,
  ...trustedProxyConfig,
  ...metricsConfig,
  ...followErasuresConfig,
  /** The console's own key, to sign its calls to routing; without it routing's queue statistics are not shown. */
  ...optionalSigningKeyConfig('ops-console'),
  /** The console, its JSON API and the operations paths. */
  HTTP_PORT: port(8090),
  /** Staff roster and sessions, shared with agent-desk. */
  ...staffDbConfig,
  /** OPS_CONSOLE_SESSION_SECRET, OPS_CONSOLE_SESSION_TTL_MS, OPS_CONSOLE_SIGNIN_MAX_PER_ID and the rest, as the desk's. */
  ...signInConfig('OPS_CONSOLE', 'console'),
  /** The console's public origin (https://ops.example.com) when behind a proxy; else this host. */
  OPS_CONSOLE_ORIGIN: z
    .string()
    .regex(/^https?:\/\/[^/\s]+$/, 'must be scheme://host[:port] without a path')
    .optional(),
  /**
   * A trace UI's address of one trace, `{traceId}` standing for the id (Jaeger:
   * `http://localhost:16686/trace/{traceId}`); each event with a trace links to it. Unset, no links.
   */
  OPS_CONSOLE_TRACE_URL: z
    .string()
    .regex(/^https?:\/\/[^\s]*\{traceId\}[^\s]*$/, 'must be an http(s) URL containing {traceId}')
    .optional(),
  /** Routing's gRPC address (host:port), for queue statistics. */
  ROUTING_GRPC_ADDR: z
    .string()
    .regex(/^[^\s:]+:\d{1,5}$/, 'must be host:port')
    .default('127.0.0.1:50052'),
  /** customer-record's gRPC address (host:port), for the conversation search; it needs AUTH_PRIVATE_KEY_FILE too. */
  CUSTOMER_RECORD_GRPC_ADDR: z
    .string()
    .regex(/^[^\s:]+:\d{1,5}$/, 'must be host:port')
    .default('127.0.0.1:50051'),
  /** The service level the charts compare against (routing's target, 0..1). */
  OPS_SERVICE_LEVEL_TARGET: z.coerce.number().min(0, 'must be 0..1').max(1, 'must be 0..1').default(0.8),
  /** How often routing's queue statistics are fetched for the charts. */
  OPS_QUEUE_STATS_INTERVAL_MS: durationMs(5000),
  /** How often the consumer groups' lag is read from Kafka. */
  OPS_LAG_INTERVAL_MS: durationMs(10_000),
};

export type OpsConsoleConfig = ReturnType<typeof loadOpsConsoleConfig>;

export function loadOpsConsoleConfig(env: Record<string, string | undefined> = process.env) {
  const config = loadConfig(opsConsoleConfig, env);
  return { ...config, sessionSecret: config.OPS_CONSOLE_SESSION_SECRET };
}
