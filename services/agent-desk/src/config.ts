import { signingKeyConfig } from '#libs/auth';
import { bool, commonConfig, port, positiveInt, z } from '#libs/config';
import { metricsConfig } from '#libs/observability';
import { staffDbConfig } from '#libs/staff';
import { signInConfig, trustedProxyConfig } from '#libs/web';
import { parseTemplates, TemplateError } from './whatsapp-templates';

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
  /** How often a supervisor's silent view of a conversation reads it again (each read is audited by customer-record). */
  AGENT_DESK_WATCH_POLL_MS: positiveInt(1000),
  /** Personal canned answers one person may keep. */
  AGENT_DESK_CANNED_PER_PERSON: positiveInt(100),
  /** Shared canned answers in all (supervisors manage them). */
  AGENT_DESK_CANNED_SHARED: positiveInt(500),
  /** How many customers of a supervisor's notice are written to each second. */
  AGENT_DESK_NOTICE_PER_SECOND: positiveInt(5),
  /** The most customers one notice goes to. */
  AGENT_DESK_NOTICE_MAX_CUSTOMERS: positiveInt(1000),
  /**
   * Follow what became of each message written first (sent, refused because the customer replied
   * STOP, outside WhatsApp's window, failed) from the conversation events on Kafka (KAFKA_BROKERS).
   * Off, the writer sees only that routing queued it.
   */
  AGENT_DESK_FOLLOW_DELIVERIES: bool(true),
  /**
   * The approved WhatsApp templates a person may write first with, as JSON: a list of
   * {name, contentSid (HX…), language, preview (text with {{1}}, {{2}}, …), variables: [{label, maxLength}]}.
   * Empty, WhatsApp is not offered for writing first.
   */
  AGENT_DESK_WHATSAPP_TEMPLATES_JSON: z
    .string()
    .default('[]')
    .superRefine((json, ctx) => {
      try {
        parseTemplates(json);
      } catch (err) {
        if (!(err instanceof TemplateError)) throw err;
        ctx.addIssue({ code: 'custom', message: err.message });
      }
    }),
  /** The Twilio account (AC…) the softphone's access tokens are for; unset, the desk has no softphone. */
  TWILIO_ACCOUNT_SID: z
    .string()
    .regex(/^AC[0-9a-fA-F]{32}$/, 'must be an account SID: AC followed by 32 hex digits')
    .optional(),
  /** The API key (SK…) that signs softphone tokens (Twilio console → API keys); with TWILIO_ACCOUNT_SID. */
  TWILIO_API_KEY_SID: z
    .string()
    .regex(/^SK[0-9a-fA-F]{32}$/, 'must be an API key SID: SK followed by 32 hex digits')
    .optional(),
  /** The API key's secret. */
  TWILIO_API_KEY_SECRET: z.string().min(16, 'must be the API key secret (32 characters)').optional(),
  /** Twilio's REST API, where the desk fetches call recordings' media with the API key (a local stand-in in tests). */
  TWILIO_API_BASE_URL: z.string().url('must be a URL such as https://api.twilio.com').default('https://api.twilio.com'),
  /** sms-voice's HTTP address (http://host:port), where agents' call controls go. */
  SMS_VOICE_URL: z.string().url('must be a URL such as http://127.0.0.1:8102').default('http://127.0.0.1:8102'),
  /** The email service's attachment port (http://host:port), where the files customers mailed are fetched. */
  EMAIL_CONTENT_URL: z.string().url('must be a URL such as http://127.0.0.1:8108').default('http://127.0.0.1:8108'),
  /** The largest file an agent may attach to an email reply (the email service has its own limit too). */
  AGENT_DESK_REPLY_FILE_MAX_BYTES: positiveInt(10 * 1024 * 1024),
  /** Files one person may attach a minute. */
  AGENT_DESK_REPLY_FILES_PER_MINUTE: positiveInt(20),
  /** The chat service's HTTP address (http://host:port), where the files visitors uploaded are fetched. */
  CHAT_CONTENT_URL: z.string().url('must be a URL such as http://127.0.0.1:8103').default('http://127.0.0.1:8103'),
  /** How long a softphone token lives; the page renews it before it ends. */
  VOICE_TOKEN_TTL_SECONDS: z.coerce.number().int().min(60, 'must be at least 60 seconds').max(3600, 'must be at most 3600 seconds (an hour)').default(600),
};

export type AgentDeskConfig = z.output<z.ZodObject<typeof agentDeskConfig>>;
