import { signingKeyConfig } from '#libs/auth';
import { commonConfig, port, positiveInt, z } from '#libs/config';
import { metricsConfig } from '#libs/observability';
import { staffDbConfig } from '#libs/staff';
import { signInConfig, trustedProxyConfig } from '#libs/web';

const address = (defaultValue: string) =>
  z
    .string()
    .regex(/^[^\s:]+:\d{1,5}$/, 'must be host:port')
    .default(defaultValue);

export const agentDeskConfig = {
  ...commonConfig,
  ...trustedProxyConfig,
  ...metricsConfig,
  /** The desk's own key: it signs the calls of each person signed in. */
  ...signingKeyConfig('agent-desk'),
  /** AGENT_DESK_SESSION_SECRET, AGENT_DESK_SESSION_TTL_MS, AGENT_DESK_SIGNIN_MAX_PER_ID and the rest, as the ops console's. */
  ...signInConfig('AGENT_DESK', 'desk'),
  /** The desk page, its JSON API, the WebSocket `/live` and the operations paths. */
  HTTP_PORT: port(8080),
  /** Routing's gRPC address (host:port); a name resolving to every instance reaches the active one. */
  ROUTING_GRPC_ADDR: address('127.0.0.1:50052'),
  /** customer-record's gRPC address (host:port). */
  CUSTOMER_RECORD_GRPC_ADDR: address('127.0.0.1:50051'),
  ...staffDbConfig,
  /** Where agents open the desk (https://desk.example.com); https turns on Secure cookies and HSTS. */
  AGENT_DESK_PUBLIC_URL: z.string().url('must be a URL such as https://desk.example.com').optional(),
  /** How often supervisors' screens get fresh agent and queue figures. */
  SUPERVISOR_REFRESH_MS: positiveInt(2000),
  /** Personal canned answers one person may keep. */
  AGENT_DESK_CANNED_PER_PERSON: positiveInt(100),
  /** Shared canned answers in all (supervisors manage them). */
  AGENT_DESK_CANNED_SHARED: positiveInt(500),
};

export type AgentDeskConfig = z.output<z.ZodObject<typeof agentDeskConfig>>;
