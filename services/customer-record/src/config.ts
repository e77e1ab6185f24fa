// Customer-record's configuration: the environment it reads.
import { trustedKeysConfig } from '#libs/auth';
import { bool, commonConfig, countryCode, durationMs, port, positiveInt, z } from '#libs/config';
import { grpcReflectionConfig } from '#libs/service';

export const customerRecordConfig = {
  ...commonConfig,
  ...trustedKeysConfig,
  /** The customer-record API (gRPC) for routing and the desk. */
  GRPC_PORT: port(50051),
  ...grpcReflectionConfig,
  /** `/healthz`, `/readyz` and `/metrics`. */
  HTTP_PORT: port(8104),
  /** Regular-customer rule: this many conversations... */
  REGULAR_MIN_CONVERSATIONS: positiveInt(3),
  /** ...within this many days. */
  REGULAR_WINDOW_DAYS: positiveInt(90),
  /** Country assumed for phone numbers written without +country code (ISO 3166 alpha-2). */
  DEFAULT_PHONE_COUNTRY: countryCode('US'),
  /** How long a cached customer context may be served when another instance changed it; 0 turns the cache off. */
  CONTEXT_CACHE_TTL_MS: durationMs(2000),
  /** Calls per minute one person (agent, expert, supervisor, ops) may make; services are not limited. */
  CALLER_RATE_LIMIT_PER_MINUTE: positiveInt(600),
  /** Consumer group of the history projection; every instance of the service shares it. */
  PROJECTION_GROUP_ID: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,100}$/, 'must be 1-100 letters, digits, _, . or -')
    .default('customer-record-projection'),
  /**
   * Session of the projection group's members: after a crash, the instance's partitions wait
   * this long before the others take them over, and its restart's join waits as long. At least
   * the broker's group.min.session.timeout.ms (6 s by default). A process whose event loop can
   * stall longer (a busy shared host) loses its membership and rebalances the group, so the
   * default leaves room; the fault suite runs with 6 s.
   */
  PROJECTION_SESSION_TIMEOUT_MS: z.coerce.number().int().min(6000).max(300_000).default(15_000),
  /** Where a new projection group starts; true rebuilds every history from the topics. */
  PROJECTION_FROM_BEGINNING: bool(true),
  /**
   * How long after a conversation stopped being theirs (declined, transferred, escalated, handed
   * back, resolved, abandoned) an agent or expert may still read its customer: one shift.
   */
  CONVERSATION_ACCESS_HOURS: positiveInt(8),
  /** How long an agent's read waits for an offer that routing sent but this service has not projected yet. */
  ACCESS_CATCH_UP_MS: durationMs(3000),
  /** How long a read waits for its audit entry to be stored before it is refused (UNAVAILABLE). */
  AUDIT_WRITE_TIMEOUT_MS: durationMs(2000),
  /** How often merges whose CustomerMerged Kafka did not acknowledge are published again. */
  MERGE_ANNOUNCE_SWEEP_MS: positiveInt(30_000),
  /** Set false to serve reads only (no projection of the topics). */
  PROJECTION_ENABLED: bool(true),
  /**
   * Directory of this instance's conversation search index, a SQLite file rebuilt from the topics
   * when missing (every instance needs its own); empty keeps the index in memory, rebuilt at each start.
   */
  SEARCH_INDEX_DIR: z.string().default(''),
  /**
   * Secret key (at least 32 characters) of the keyed hashes that name erased customers, identities
   * and conversations on cc.erasure.v1; every instance needs the same one, and changing it forgets
   * every erasure on a replay.
   */
  ERASURE_KEY: z.string().min(32, 'must be at least 32 characters'),
  /** Retention: days after which a history entry's text, subject and attachments are removed (the entry stays), and the search index's texts. */
  RETENTION_MESSAGE_TEXT_DAYS: positiveInt(365),
  /** Retention: days after their last activity that conversations, their history entries and search rows are deleted. */
  RETENTION_CONVERSATION_DAYS: positiveInt(730),
  /** Retention: days audit entries are kept. */
  RETENTION_AUDIT_DAYS: positiveInt(730),
  /** How often the retention sweep runs; one instance runs each turn (sweep slots claimed by a unique insert). */
  RETENTION_SWEEP_INTERVAL_MS: positiveInt(3_600_000),
  /** Prefix of the search index's consumer group; each index file adds its own id, so every instance reads every partition. */
  SEARCH_GROUP_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,60}$/, 'must be 1-60 letters, digits, _, . or -')
    .default('customer-record-search'),
};

export type CustomerRecordConfig = z.output<z.ZodObject<typeof customerRecordConfig>>;
