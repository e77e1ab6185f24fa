import { optionalTrustedKeysConfig } from '#libs/auth';
import { bool, commonConfig, durationMs, port, positiveInt, z } from '#libs/config';
import { followErasuresConfig } from '#libs/erasure';
import { trustedProxyConfig } from '#libs/web';
import { calendarsJson } from '#libs/calendars';

const list = (check: z.ZodString, what: string, defaultValue = '') =>
  z
    .string()
    .default(defaultValue)
    .transform((s) =>
      s
        .split(',')
        .map((x) => x.trim().toLowerCase())
        .filter(Boolean),
    )
    .pipe(z.array(check, { message: `each entry must be ${what}` }));

/** The email service's environment. */
export const emailConfig = {
  ...commonConfig,
  /** Load balancers in front of the survey links' port, whose X-Forwarded-For names the client. */
  ...trustedProxyConfig,
  /** Public keys of the services whose tokens open stored attachments (the desk's); unset, none are served. */
  ...optionalTrustedKeysConfig,
  /** Erased customers' thread documents are deleted. */
  ...followErasuresConfig,
  /** Inbound SMTP. */
  SMTP_PORT: port(2525),
  /** `/healthz`, `/readyz` and `/metrics`. */
  HTTP_PORT: port(8101),
  /** Name the server gives in its greeting. */
  SMTP_HOSTNAME: z.string().default('localhost'),
  /** Mail is accepted for these addresses... */
  SUPPORT_ADDRESSES: list(z.string().email(), 'an email address', 'support@example.com'),
  /** ...and for any address at these domains. */
  SUPPORT_DOMAINS: list(z.string().regex(/^[a-z0-9.-]+\.[a-z]{2,}$|^localhost$/), 'a domain name'),
  /** Largest message accepted; larger ones get 552. */
  SMTP_MAX_MESSAGE_BYTES: positiveInt(25 * 1024 * 1024),
  /** Attachments accepted per message; more get 552. */
  SMTP_MAX_ATTACHMENTS: positiveInt(20),
  /** Largest attachment accepted; a message with a larger one gets 552. */
  SMTP_MAX_ATTACHMENT_BYTES: positiveInt(10 * 1024 * 1024),
  /** Messages per minute from one sender address, and connections per minute from one IP. */
  SMTP_RATE_PER_SENDER: positiveInt(30),
  /** Messages per minute from one client address. */
  SMTP_RATE_PER_IP: positiveInt(120),
  /** Certificate (PEM) for STARTTLS; with SMTP_TLS_KEY_FILE. */
  SMTP_TLS_CERT_FILE: z.string().optional(),
  /** Private key (PEM) for STARTTLS; with SMTP_TLS_CERT_FILE. */
  SMTP_TLS_KEY_FILE: z.string().optional(),
  /** Outbound transport, for example smtp://user:pass@smtp.example.com:587 */
  SMTP_URL: z
    .string()
    .regex(/^smtps?:\/\/.+/, 'must be an smtp:// or smtps:// URL')
    .default('smtp://127.0.0.1:2526'),
  /** Our address on outbound mail. */
  MAIL_FROM: z.string().default('Support <support@example.com>'),
  /** The first-response target told to emailers until routing gives an estimate. */
  EMAIL_SLA_MS: durationMs(4 * 3600_000),
  /** Delivery attempts of one outbound mail before it is given up. */
  OUTBOUND_MAX_ATTEMPTS: positiveInt(5),
  /** How long a received mail waits for Kafka before the sender gets 451. */
  PUBLISH_TIMEOUT_MS: durationMs(5000),
  /** Instances of the service share this group: each outbound mail is sent by one of them. */
  EMAIL_OUTBOUND_GROUP: z.string().default('email-outbound'),
  /** false runs an inbound-only instance (a mail exchanger scaled apart from the senders). */
  EMAIL_OUTBOUND_ENABLED: bool(true),
  /** Open SMTP connections at once, in all and from one client address. */
  SMTP_MAX_CLIENTS: positiveInt(100),
  /** Simultaneous SMTP connections from one address. */
  SMTP_MAX_CLIENTS_PER_IP: positiveInt(10),
  /** The header section of one message, and the message ids its References and In-Reply-To may name. */
  SMTP_MAX_HEADER_BYTES: positiveInt(256 * 1024),
  /** Message ids In-Reply-To and References may name; more get 552. */
  SMTP_MAX_REFERENCES: positiveInt(100),
  /**
   * DNS servers for SPF, DKIM and DMARC look-ups ("ip" or "ip:port", "[ipv6]:port"); empty uses
   * the system's. Each look-up waits EMAIL_DNS_TIMEOUT_MS, the whole check EMAIL_AUTH_TIMEOUT_MS.
   */
  EMAIL_DNS_SERVERS: list(
    z.string().regex(/^(\d{1,3}(\.\d{1,3}){3}(:\d{1,5})?|[0-9a-f:]+|\[[0-9a-f:]+\](:\d{1,5})?)$/),
    'an IP address with an optional :port',
  ),
  /** How long one DNS look-up of the sender checks may take. */
  EMAIL_DNS_TIMEOUT_MS: positiveInt(2000),
  /** How long the sender checks (SPF, DKIM, DMARC) of one message may take. */
  EMAIL_AUTH_TIMEOUT_MS: positiveInt(8000),
  /**
   * The key survey links are signed with (HMAC-SHA256), at least 32 characters. Unset, the
   * survey mail carries no links and only a reply answers it.
   */
  EMAIL_SURVEY_LINK_KEY: z.string().min(32, 'must be at least 32 characters').optional(),
  /** Where customers' browsers reach the survey links (EMAIL_SURVEY_HTTP_PORT, behind a proxy or not). */
  EMAIL_SURVEY_BASE_URL: z.string().url('must be a URL such as https://survey.example.com').default('http://127.0.0.1:8107'),
  /** The survey links' own HTTP port, apart from the operations port; served only with EMAIL_SURVEY_LINK_KEY. */
  EMAIL_SURVEY_HTTP_PORT: port(8107),
  /** Survey links refused (bad or expired) one client address may open per minute before it gets 429. */
  EMAIL_SURVEY_BAD_LINKS_PER_MINUTE: positiveInt(20),
  /** How long after the survey mail its links work and a reply of 1-5 is taken as the answer. */
  EMAIL_SURVEY_WINDOW_MS: durationMs(7 * 24 * 3600_000),
  /** The stored attachments' internal port (GET /internal/attachments/<sha256>, for the desk); served only with AUTH_PUBLIC_KEYS_DIR. */
  EMAIL_CONTENT_HTTP_PORT: port(8108),
  /** Where the attachments' port listens: loopback unless the desk runs on another host. */
  EMAIL_CONTENT_BIND_HOST: z.string().default('127.0.0.1'),
  /** Largest file an agent may attach to a reply (POST /internal/attachments on the attachments' port refuses larger with 413). */
  EMAIL_REPLY_ATTACHMENT_MAX_BYTES: positiveInt(10 * 1024 * 1024),
  /** Largest total of one reply's files; a reply over it is dead-lettered rather than sent without them. */
  EMAIL_REPLY_ATTACHMENTS_MAX_BYTES: positiveInt(20 * 1024 * 1024),
  /**
   * Who gets an acknowledgement: "authenticated" senders only (an aligned SPF or DKIM pass), or
   * every sender whose authentication did not fail or is not unknown ("not-failed").
   */
  EMAIL_ACK_SENDERS: z.enum(['authenticated', 'not-failed']).default('authenticated'),
  /**
   * The queues' opening hours, the same JSON as routing's ROUTING_CALENDARS_JSON: with them the
   * acknowledgement says whether the queue is open. The seed: the calendars a supervisor sets in
   * the desk (routing's SetCalendars, on cc.calendars.v1) replace them without a restart.
   */
  EMAIL_CALENDARS_JSON: calendarsJson,
  /**
   * The routing deployment (its ROUTING_CONSUMER_GROUP) whose supervisors' calendars the
   * acknowledgement follows on cc.calendars.v1; empty follows none (EMAIL_CALENDARS_JSON only).
   */
  EMAIL_CALENDARS_DEPLOYMENT: z
    .string()
    .regex(/^([A-Za-z0-9._-]{1,200})?$/, 'must be a routing consumer group name (letters, digits, . _ -) or empty')
    .default('routing'),
};

export type EmailConfig = z.output<z.ZodObject<typeof emailConfig>>;
