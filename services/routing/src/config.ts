// Routing's configuration: the environment it reads, and the routing policy taken from it.
import { z } from 'zod';
import { commaList, commonConfig, countryCode, ConfigError, durationMs, port, positiveInt, type ConfigProblem } from '#libs/config';
import { optionalSigningKeyConfig, trustedKeysConfig } from '#libs/auth';
import { followErasuresConfig } from '#libs/erasure';
import { grpcReflectionConfig } from '#libs/service';
import { calendarsJson } from '#libs/calendars';
import { parseQuietHours, QuietHoursError } from './core/quiet-hours';
import { DEFAULT_POLICY, type ClassificationRule, type RoutingPolicy } from './core/policy';

const rulesJson = z
  .string()
  .optional()
  .transform((s, ctx) => {
    if (!s) return undefined;
    try {
      const parsed = JSON.parse(s) as unknown;
      if (!Array.isArray(parsed)) throw new Error('must be a JSON array of rules');
      return parsed as ClassificationRule[];
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: `must be a JSON array of rules: ${err instanceof Error ? err.message : String(err)}` });
      return z.NEVER;
    }
  });

/** The consumer group of a centre's routing; another one also scopes its message ids (core/outbox.ts). */
const DEFAULT_GROUP = 'routing';

export const routingConfig = {
  ...commonConfig,
  ...trustedKeysConfig,
  /** Routing's own key, to sign its calls to customer-record; required with CUSTOMER_RECORD_GRPC_ADDR. */
  ...optionalSigningKeyConfig('routing'),
  /** Erased customers' conversations and memories are dropped from the state and the changelog. */
  ...followErasuresConfig,
  /**
   * Country assumed for phone numbers written without +country code (ISO 3166 alpha-2): set it as
   * customer-record's, so an erased number is matched in routing as customer-record reads it.
   */
  DEFAULT_PHONE_COUNTRY: countryCode('US'),
  /** The agent API (gRPC): desks, the console and sms-voice call it. */
  GRPC_PORT: port(50052),
  ...grpcReflectionConfig,
  /** `/healthz`, `/readyz` (can take over), `/activez` (routes now) and `/metrics`. */
  HTTP_PORT: port(8105),
  /** customer-record's gRPC address, for flags and the last agent; unset, contacts are routed without them. */
  CUSTOMER_RECORD_GRPC_ADDR: z
    .string()
    .regex(/^[^\s:]+:\d{1,5}$/, 'must be host:port')
    .optional(),
  /**
   * Consumer group of the routing instances; it also names their changelog topic
   * (cc.<group>.state.v1) and their transactional id (<group>.active).
   */
  ROUTING_CONSUMER_GROUP: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,100}$/, 'must be letters, digits, _, . or -')
    .default(DEFAULT_GROUP),
  /** How long an agent has to accept an offer before it goes to the next agent. */
  ROUTING_OFFER_TIMEOUT_MS: durationMs(DEFAULT_POLICY.offerTimeoutMs),
  /** Offers an agent may let expire in a row before being set away. */
  ROUTING_MAX_MISSED_OFFERS: positiveInt(DEFAULT_POLICY.maxMissedOffers),
  /** After-contact work: how long an agent gets no new offer after resolving (0: none). */
  ROUTING_WRAP_UP_MS: durationMs(DEFAULT_POLICY.wrapUpMs),
  /** Complexity (0-10) at or above which a conversation goes to the experts automatically. */
  ROUTING_COMPLEXITY_THRESHOLD: z.coerce.number().int().min(0).max(10).default(DEFAULT_POLICY.complexityThreshold),
  /** How long a conversation waits for its account manager before it is offered to the queue. */
  ROUTING_ACCOUNT_MANAGER_WAIT_MS: durationMs(DEFAULT_POLICY.stepTimeoutMs.accountManager),
  /** How many days the agent who last served a customer is a target for their new conversations. */
  ROUTING_LAST_AGENT_DAYS: positiveInt(14),
  /** The engine's timer: offer expiry, SLA and wrap-up checks run this often. */
  ROUTING_TICK_MS: positiveInt(200),
  /** How long a customer-record look-up may take before the contact is routed without flags. */
  ROUTING_CUSTOMER_LOOKUP_TIMEOUT_MS: z.coerce.number().int().min(10).max(10_000).default(250),
  /** Group session timeout: how soon a standby takes over from an instance that died. */
  ROUTING_SESSION_TIMEOUT_MS: z.coerce.number().int().min(6000).max(300_000).default(6000),
  /** Consumer-group heartbeat interval; a standby learns of a take-over no faster. */
  ROUTING_HEARTBEAT_MS: z.coerce.number().int().min(100).max(10_000).default(1000),
  /** Classification rules as a JSON array; the built-in examples when unset. */
  ROUTING_RULES_JSON: rulesJson,
  /** Between an unanswered callback attempt (no answer, busy, failed) and the next one. */
  ROUTING_CALLBACK_RETRY_INTERVAL_MS: durationMs(DEFAULT_POLICY.callbackRetryIntervalMs),
  /** Attempts to call a customer back before the callback is given up and the customer told by SMS. */
  ROUTING_CALLBACK_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(10).default(DEFAULT_POLICY.callbackMaxAttempts),
  /** How long before a promise's deadline (a long case's next milestone) its owner and the supervisors are warned on the desk. */
  ROUTING_PROMISE_WARNING_LEAD_MS: durationMs(DEFAULT_POLICY.promiseWarningLeadMs),
  /** Supervisors' desk ids (comma-separated) warned, with the owner, before a promise slips and when it does. */
  ROUTING_PROMISE_SUPERVISORS: commaList().pipe(z.array(z.string().regex(/^[A-Za-z0-9_.@-]{1,64}$/, 'each supervisor must be a desk id, separated by commas'))),
  /**
   * Opening hours per queue, JSON: {"<tier>/<skill>/<channel>" (each may be *): {"zone": IANA zone,
   * "hours": {"mon": ["09:00-12:00", "13:00-18:00"], ...}, "holidays": ["2025-12-25"],
   * "exceptions": {"2025-12-24": ["09:00-12:00"]}}}. Unset: every queue always open. A supervisor's
   * change (SetCalendars) is kept in the changelog and wins over this one.
   */
  ROUTING_CALENDARS_JSON: calendarsJson,
  /**
   * Local times at which the company does not start SMS conversations (the desk's and the
   * integration API's first messages, notices), such as 21:00-08:00; unset, none. Answers to a
   * customer's own messages are never held back.
   */
  ROUTING_SMS_QUIET_HOURS: z
    .string()
    .regex(/^\d{2}:\d{2}-\d{2}:\d{2}$/, 'must be HH:MM-HH:MM, such as 21:00-08:00')
    .optional(),
  /** The IANA time zone ROUTING_SMS_QUIET_HOURS is read in. */
  ROUTING_SMS_QUIET_HOURS_ZONE: z.string().default('UTC'),
};

export type RoutingConfig = z.output<z.ZodObject<typeof routingConfig>>;

/** What the schema cannot say of one variable alone; ConfigError naming every problem. */
export function checkRoutingConfig(config: RoutingConfig): void {
  const problems: ConfigProblem[] = [];
  if (config.ROUTING_HEARTBEAT_MS * 3 > config.ROUTING_SESSION_TIMEOUT_MS) {
    problems.push({
      variable: 'ROUTING_HEARTBEAT_MS',
      message: `must be at most a third of ROUTING_SESSION_TIMEOUT_MS (${config.ROUTING_SESSION_TIMEOUT_MS})`,
    });
  }
  if (config.CUSTOMER_RECORD_GRPC_ADDR && !config.AUTH_PRIVATE_KEY_FILE) {
    problems.push({
      variable: 'AUTH_PRIVATE_KEY_FILE',
      message: 'must be set when CUSTOMER_RECORD_GRPC_ADDR is: routing signs its calls to customer-record with its own key',
    });
  }
  if (config.ROUTING_SMS_QUIET_HOURS) {
    try {
      parseQuietHours(config.ROUTING_SMS_QUIET_HOURS, config.ROUTING_SMS_QUIET_HOURS_ZONE);
    } catch (err) {
      if (!(err instanceof QuietHoursError)) throw err;
      problems.push({ variable: 'ROUTING_SMS_QUIET_HOURS', message: err.message });
    }
  }
  if (problems.length) throw new ConfigError(problems);
}

/** The routing policy: the defaults, the configured tunables, then what a test sets. */
export function routingPolicy(config: RoutingConfig, overrides: Partial<RoutingPolicy> = {}): RoutingPolicy {
  return {
    ...DEFAULT_POLICY,
    offerTimeoutMs: config.ROUTING_OFFER_TIMEOUT_MS,
    maxMissedOffers: config.ROUTING_MAX_MISSED_OFFERS,
    wrapUpMs: config.ROUTING_WRAP_UP_MS,
    complexityThreshold: config.ROUTING_COMPLEXITY_THRESHOLD,
    lastAgentWindowMs: config.ROUTING_LAST_AGENT_DAYS * 86_400_000,
    stepTimeoutMs: { ...DEFAULT_POLICY.stepTimeoutMs, accountManager: config.ROUTING_ACCOUNT_MANAGER_WAIT_MS },
    callbackRetryIntervalMs: config.ROUTING_CALLBACK_RETRY_INTERVAL_MS,
    callbackMaxAttempts: config.ROUTING_CALLBACK_MAX_ATTEMPTS,
    promiseWarningLeadMs: config.ROUTING_PROMISE_WARNING_LEAD_MS,
    promiseSupervisors: config.ROUTING_PROMISE_SUPERVISORS,
    ...(config.ROUTING_RULES_JSON ? { rules: config.ROUTING_RULES_JSON } : {}),
    ...(config.ROUTING_CALENDARS_JSON ? { calendars: config.ROUTING_CALENDARS_JSON } : {}),
    ...(config.ROUTING_CONSUMER_GROUP !== DEFAULT_GROUP ? { messageScope: config.ROUTING_CONSUMER_GROUP } : {}),
    ...(config.ROUTING_SMS_QUIET_HOURS ? { smsQuietHours: parseQuietHours(config.ROUTING_SMS_QUIET_HOURS, config.ROUTING_SMS_QUIET_HOURS_ZONE) } : {}),
    ...overrides,
  };
}
