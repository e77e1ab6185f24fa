import { optionalSigningKeyConfig, optionalTrustedKeysConfig } from '#libs/auth';
import { followErasuresConfig } from '#libs/erasure';
import { commonConfig, countryCode, durationMs, port, positiveInt, z } from '#libs/config';
import { metricsConfig } from '#libs/observability';
import { staffDbConfig } from '#libs/staff';
import { trustedProxyConfig } from '#libs/web';
import { queuePatterns } from './recordings';

/** The sms-voice service's environment. */
export const smsVoiceConfig = {
  ...commonConfig,
  ...trustedProxyConfig,
  ...metricsConfig,
  ...followErasuresConfig,
  /** sms-voice's own key, to sign its calls to routing; required with ROUTING_GRPC_ADDR. */
  ...optionalSigningKeyConfig('sms-voice'),
  /** The keys of the desk's tokens, for agents' call controls (`POST /desk/calls/control`); unset, no controls. */
  ...optionalTrustedKeysConfig,
  /** The staff roster (read only): an agent who takes calls on their own phone is dialled there. */
  ...staffDbConfig,
  /** Twilio's webhooks, `/readyz/webhooks` for the load balancer, and the operations paths. */
  HTTP_PORT: port(8102),
  /** Routing's gRPC address for callers' wait estimates; with it unset callers hear the SLA target. */
  ROUTING_GRPC_ADDR: z
    .string()
    .regex(/^[^\s:]+:\d{1,5}$/, 'must be host:port')
    .optional(),
  /** The auth token webhooks are signed with (Twilio console → Account → API keys & tokens). */
  TWILIO_AUTH_TOKEN: z.string().min(16, 'must be the account auth token (32 characters)'),
  /** The Twilio account (AC…) that sends SMS and places calls. */
  TWILIO_ACCOUNT_SID: z.string().regex(/^AC[0-9a-fA-F]{32}$/, 'must be an account SID: AC followed by 32 hex digits'),
  /** Where Twilio reaches this service, as configured on the numbers: signatures are computed over it. */
  PUBLIC_BASE_URL: z.string().url('must be a URL such as https://cc.example.com').default('http://127.0.0.1:8102'),
  /** Twilio's REST API; tests point it at a local server that answers as Twilio does. */
  TWILIO_API_BASE_URL: z.string().url().default('https://api.twilio.com'),
  /** Country assumed for numbers written without +country code. */
  DEFAULT_PHONE_COUNTRY: countryCode('US'),
  /** Messages between the same two numbers within this time join one conversation. */
  SMS_CONVERSATION_WINDOW_MS: durationMs(24 * 3600_000),
  /**
   * The approved WhatsApp template (a Twilio Content SID, HX…) sent instead of a reply that falls
   * outside WhatsApp's 24-hour window, asking the customer to write back so the agent can answer.
   * Unset, such a reply is reported undeliverable (WHATSAPP_WINDOW_CLOSED) and nothing is sent.
   */
  WHATSAPP_REOPEN_TEMPLATE_SID: z
    .string()
    .regex(/^HX[0-9a-fA-F]{32}$/, 'must be a Twilio Content SID: HX and 32 hexadecimal digits')
    .optional(),
  /**
   * The number a conversation the company starts (integration API, POST /v1/conversations) is
   * texted from; the customer's answers to it join that conversation. Unset, such an SMS is
   * reported undeliverable (NO_COMPANY_NUMBER).
   */
  SMS_COMPANY_NUMBER: z
    .string()
    .regex(/^\+[1-9][0-9]{6,14}$/, 'must be a number in E.164 form, such as +14155550100')
    .optional(),
  /**
   * The WhatsApp sender (E.164, without `whatsapp:`) a WhatsApp conversation the company starts goes
   * out from; unset, SMS_COMPANY_NUMBER's. With neither, such a message is reported undeliverable
   * (NO_COMPANY_NUMBER).
   */
  WHATSAPP_COMPANY_NUMBER: z
    .string()
    .regex(/^\+[1-9][0-9]{6,14}$/, 'must be a number in E.164 form, such as +14155550100')
    .optional(),
  /**
   * After the survey of a resolved conversation is texted, a reply of 1-5 (optionally with a
   * comment) within this time is its answer; later, or anything else, is an ordinary message.
   */
  SMS_SURVEY_WINDOW_MS: durationMs(24 * 3600_000),
  /** First-response target per caller ahead, told to callers when routing gives no estimate. */
  VOICE_SLA_MS: durationMs(30_000),
  /** What a caller on hold, or waiting in the call's conference for the agent, hears (Twilio fetches it). */
  VOICE_HOLD_MUSIC_URL: z.string().url('must be a URL Twilio can fetch').default('https://twimlets.com/holdmusic?Bucket=com.twilio.music.classical'),
  /**
   * The queues whose calls are recorded, comma-separated: a queue's name, or a prefix ending in
   * `*` (`billing-*`); `*` records every queue. Empty, no call is recorded.
   */
  VOICE_RECORDED_QUEUES: z
    .string()
    .max(2000)
    .refine(
      (v) => queuePatterns(v).every((p) => /^(\*|[A-Za-z0-9._-]{1,100}\*?)$/.test(p)),
      'must be queue names or prefixes ending in *, comma-separated, such as billing,sales-*',
    )
    .default(''),
  /** What a caller whose call is recorded hears before joining the agent. */
  VOICE_RECORDING_CONSENT: z
    .string()
    .min(10, 'must be the announcement the caller hears')
    .max(500)
    .default('This call is recorded for quality and training. If you do not want it to be recorded, please tell the agent or hang up.'),
  /**
   * How long a call's recording is kept: after this, its deletion is asked of Twilio
   * (`DELETE /Recordings/{sid}`). 0 keeps recordings until they are deleted by other means.
   */
  VOICE_RECORDING_RETENTION_MS: durationMs(90 * 24 * 3600_000),
  /** How often recordings past their retention are looked for. */
  VOICE_RECORDING_SWEEP_MS: z.coerce.number().int().min(100, 'must be a number of milliseconds, 100 or more').default(3600_000),
  /** Above this estimated wait a caller is offered a callback. */
  CALLBACK_OFFER_AFTER_MS: durationMs(120_000),
  /** Largest webhook body accepted. */
  WEBHOOK_MAX_BYTES: positiveInt(64 * 1024),
  /** Badly signed requests one address may send per minute before it gets 429. */
  BAD_SIGNATURES_PER_MINUTE: positiveInt(20),
  /** Attempts of one outbound SMS or call instruction before it is given up. */
  OUTBOUND_MAX_ATTEMPTS: positiveInt(5),
  /** Wait for Kafka before a contact goes to the spool; Twilio gives up on a webhook after 15 s. */
  PUBLISH_TIMEOUT_MS: z.coerce
    .number()
    .int()
    .min(0, 'must be a number of milliseconds, 0 or more')
    .max(10_000, "must be at most 10000, to answer within Twilio's 15 s webhook timeout")
    .default(5000),
  /** Where contacts wait while Kafka is down; one folder per instance, on a disk that outlives the process. */
  SMS_VOICE_SPOOL_DIR: z.string().min(1, 'must name a folder').default('.local/spool/sms-voice'),
  /** Contacts the spool holds at most before webhooks are refused with 503; 0 turns the spool off. */
  SMS_VOICE_SPOOL_MAX_RECORDS: z.coerce.number().int().min(0, 'must be a whole number, 0 or more (0 turns the spool off)').default(50_000),
  /** Bytes of spooled contacts at most (kept in memory too, for the forwarder). */
  SMS_VOICE_SPOOL_MAX_BYTES: positiveInt(64 * 1024 * 1024),
  /** Consumer group of the outbound SMS sender. */
  SMS_OUTBOUND_GROUP: z.string().default('sms-voice-outbound'),
};

export type SmsVoiceConfig = z.output<z.ZodObject<typeof smsVoiceConfig>>;
