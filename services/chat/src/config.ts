import { optionalTrustedKeysConfig } from '#libs/auth';
import { followErasuresConfig } from '#libs/erasure';
import { commaList, commonConfig, durationMs, port, positiveInt, z } from '#libs/config';
import { metricsConfig } from '#libs/observability';
import { trustedProxyConfig } from '#libs/web';

const originList = commaList().pipe(
  z.array(z.string().regex(/^https?:\/\/[^/\s]+$/, 'each origin must be scheme://host[:port] with no path, separated by commas')),
);

export const chatConfig = {
  ...commonConfig,
  ...trustedProxyConfig,
  ...metricsConfig,
  ...followErasuresConfig,
  /** The widget, the demo page, the WebSocket and the operations paths. */
  HTTP_PORT: port(8103),
  /** HMAC-SHA256 key for visitor tokens. */
  CHAT_TOKEN_SECRET: z.string().min(32, 'must be at least 32 characters'),
  /** Lifetime of a visitor token (30 days). */
  CHAT_TOKEN_TTL_SECONDS: positiveInt(30 * 24 * 3600),
  /** Pages allowed to open the WebSocket, besides the service's own demo page. */
  CHAT_ALLOWED_ORIGINS: originList,
  /** Largest file a visitor may upload (POST /upload); larger gets 413. */
  CHAT_UPLOAD_MAX_BYTES: positiveInt(5 * 1024 * 1024),
  /** Files one chat may upload per minute; more get 429. */
  CHAT_UPLOADS_PER_MINUTE: positiveInt(5),
  /** Public keys of the services whose tokens open uploaded files (the desk's); unset, none are served. */
  ...optionalTrustedKeysConfig,
  /** Largest WebSocket frame accepted; bigger closes the connection with 1009. */
  CHAT_MAX_FRAME_BYTES: positiveInt(16 * 1024),
  /** Token bucket per connection: burst size and sustained frames per second; over it closes with 1008. */
  CHAT_RATE_BURST: positiveInt(20),
  /** Frames one connection may send per second. */
  CHAT_RATE_PER_SECOND: positiveInt(5),
  /** Open sockets per client address and per instance; over either closes the new one with 1013. */
  CHAT_MAX_SOCKETS_PER_ADDRESS: positiveInt(20),
  /** Open WebSocket connections per instance. */
  CHAT_MAX_SOCKETS: positiveInt(5000),
  /** New conversations (hellos without a token) per client address and per instance in each window; over either closes with 1013. */
  CHAT_MAX_NEW_CONVERSATIONS_PER_ADDRESS: positiveInt(10),
  /** New conversations (hellos without a token) per instance in each window. */
  CHAT_MAX_NEW_CONVERSATIONS: positiveInt(600),
  /** The window of the new-conversation caps. */
  CHAT_NEW_CONVERSATIONS_WINDOW_MS: positiveInt(10 * 60_000),
  /** The company's address offered to a visitor while the chat queue is closed, to go on by email; empty offers none. */
  CHAT_CLOSED_EMAIL_ADDRESS: z
    .string()
    .regex(/^(?:[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,63})?$/, 'must be an email address such as support@example.com, or empty')
    .default(''),
  /** Wait told to a visitor until routing sends an estimate: the chat SLA target. */
  CHAT_SLA_TARGET_MS: durationMs(60_000),
  /** How long a message waits for Kafka before it is answered `not-accepted`. */
  CHAT_PUBLISH_TIMEOUT_MS: durationMs(5_000),
  /** Time allowed for the first frame of a connection. */
  CHAT_HELLO_TIMEOUT_MS: durationMs(10_000),
  /** Email verification: how long a mailed code works and how many wrong tries it allows. */
  CHAT_VERIFY_CODE_TTL_MS: durationMs(10 * 60_000),
  /** Wrong tries before a verification code is spent. */
  CHAT_VERIFY_MAX_TRIES: positiveInt(5),
  /** Codes one chat may ask for per hour, and one address may be sent per day (no mail-bombing). */
  CHAT_VERIFY_CODES_PER_CONVERSATION_HOUR: positiveInt(3),
  /** Verification codes one address may be sent per day, from all chats. */
  CHAT_VERIFY_CODES_PER_ADDRESS_DAY: positiveInt(5),
};

export type ChatConfig = z.output<z.ZodObject<typeof chatConfig>>;
