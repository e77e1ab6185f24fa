import { signingKeyConfig } from '../../../libs/auth';
import { commonConfig, port, positiveInt, z } from '../../../libs/config';
import { metricsConfig } from '../../../libs/observability';
import { optionalBool, trustedProxyConfig } from '../../../libs/web';

const address = (defaultValue: string) => z.string().regex(/^[^\s:]+:\d{1,5}$/, 'must be host:port').default(defaultValue);

/** "8h", "30m", "45s" or a number of seconds. */
const duration = (defaultValue: string) =>
  z
    .string()
    .default(defaultValue)
    .transform((s, ctx) => {
      const m = /^(\d+)\s*(h|m|s)?$/.exec(s.trim());
      const ms = m ? Number(m[1]) * { h: 3600_000, m: 60_000, s: 1000 }[(m[2] ?? 's') as 'h' | 'm' | 's'] : 0;
      if (!ms) {
        ctx.addIssue({ code: 'custom', message: 'must be a duration such as 8h, 30m or 900 (seconds), above 0' });
        return z.NEVER;
      }
      return ms;
    });

export const agentDeskConfig = {
  ...commonConfig,
  ...trustedProxyConfig,
  ...metricsConfig,
  /** The desk's own key: it signs the calls of each person signed in. */
  ...signingKeyConfig('agent-desk'),
  /** Keys the sessions' CSRF tokens, the same on every instance, used for nothing else. */
  AGENT_DESK_SESSION_SECRET: z.string({ message: 'is required: it keys the desk’s CSRF tokens' }).min(32, 'must be at least 32 characters'),
  HTTP_PORT: port(8080),
  ROUTING_GRPC_ADDR: address('127.0.0.1:50052'),
  CUSTOMER_RECORD_GRPC_ADDR: address('127.0.0.1:50051'),
  STAFF_DB: z.string().regex(/^[A-Za-z0-9_-]{1,60}$/, 'must be 1-60 letters, digits, _ or -').default('cc_staff'),
  /** How long a session lasts after sign-in. */
  SESSION_TTL: duration('8h'),
  /** Where agents open the desk (https://desk.example.com); https turns on Secure cookies and HSTS. */
  DESK_PUBLIC_URL: z.string().url('must be a URL such as https://desk.example.com').optional(),
  /** Secure session cookie and Strict-Transport-Security; unset, they follow DESK_PUBLIC_URL. */
  COOKIE_SECURE: optionalBool(),
  DESK_HSTS: optionalBool(),
  /** Wrong passwords allowed per window from one client address, whatever the id. */
  SIGNIN_MAX_PER_IP: positiveInt(30),
  /** Wrong passwords allowed per window for one staff id from one client address. */
  SIGNIN_MAX_PER_ID: positiveInt(5),
  /** Wrong passwords for one staff id from all addresses, after which only addresses that have not failed for it may try. */
  SIGNIN_MAX_PER_ID_TOTAL: positiveInt(50),
  /** How often open live sockets are checked against their session (ended, person disabled or changed). */
  SESSION_CHECK_MS: positiveInt(2000),
  SIGNIN_WINDOW: duration('15m'),
  /** How often supervisors' screens get fresh agent and queue figures. */
  SUPERVISOR_REFRESH_MS: positiveInt(2000),
};

export type AgentDeskConfig = z.output<z.ZodObject<typeof agentDeskConfig>>;
