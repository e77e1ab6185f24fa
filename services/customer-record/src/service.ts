// Wiring: configuration → store, projection consumer, gRPC API and ops HTTP.
import { createTokenVerifier, trustedKeysConfig, type TokenVerifier } from '../../../libs/auth';
import { RateLimiter } from '../../../libs/rate-limit';
import { bool, commonConfig, durationMs, port, positiveInt, z } from '../../../libs/config';
import { topics } from '../../../libs/kafka';
import { CustomerRecordServiceService, type GetCustomerContextResponse } from '../../../libs/proto';
import type { Db } from 'mongodb';
import { connectKafka, connectMongo, serveOps, startGrpcServer, type ServiceContext } from '../../../libs/service';
import { customerRecordApi } from './api';
import { AuditLog } from './audit';
import { ContextCache } from './cache';
import { ConversationAccessStore } from './conversation-access';
import { Projection } from './projection';
import { ReadGuard } from './read-guard';
import { cachingVerifier } from './tokens';
import { CustomerStore } from './store';

export const customerRecordConfig = {
  ...commonConfig,
  ...trustedKeysConfig,
  GRPC_PORT: port(50051),
  HTTP_PORT: port(8104),
  /** Regular-customer rule: this many conversations... */
  REGULAR_MIN_CONVERSATIONS: positiveInt(3),
  /** ...within this many days. */
  REGULAR_WINDOW_DAYS: positiveInt(90),
  /** Country assumed for phone numbers written without +country code (ISO 3166 alpha-2). */
  DEFAULT_PHONE_COUNTRY: z.string().regex(/^[A-Z]{2}$/, 'must be a two-letter country code such as US or FR').default('US'),
  /** How long a cached customer context may be served when another instance changed it; 0 turns the cache off. */
  CONTEXT_CACHE_TTL_MS: durationMs(2000),
  /** Calls per minute one person (agent, expert, supervisor, ops) may make; services are not limited. */
  CALLER_RATE_LIMIT_PER_MINUTE: positiveInt(600),
  /** Consumer group of the history projection; every instance of the service shares it. */
  PROJECTION_GROUP_ID: z.string().regex(/^[A-Za-z0-9_.-]{1,100}$/, 'must be 1-100 letters, digits, _, . or -').default('customer-record-projection'),
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
  /** Set false to serve reads only (no projection of the topics). */
  PROJECTION_ENABLED: bool(true),
};

export type CustomerRecordConfig = z.output<z.ZodObject<typeof customerRecordConfig>>;

export interface CustomerRecordService {
  grpcPort: number;
  httpPort: number;
  store: CustomerStore;
  projection: Projection;
  audit: AuditLog;
  access: ConversationAccessStore;
}

export async function startCustomerRecord(ctx: ServiceContext, config: CustomerRecordConfig, overrides: { verify?: TokenVerifier; auditDb?: Db } = {}): Promise<CustomerRecordService> {
  const verify = cachingVerifier(overrides.verify ?? createTokenVerifier({ keys: config.AUTH_PUBLIC_KEYS_DIR, audience: 'customer-record' }));
  const { db } = await connectMongo(ctx, config);
  const store = new CustomerStore(db, { minConversations: config.REGULAR_MIN_CONVERSATIONS, windowDays: config.REGULAR_WINDOW_DAYS });
  await store.ensureIndexes();
  const cache = new ContextCache<GetCustomerContextResponse>(config.CONTEXT_CACHE_TTL_MS);
  store.onChange = (ids) => cache.invalidate(ids);
  // A separate audit store is for tests that cut the audit write alone.
  const audit = new AuditLog(overrides.auditDb ? overrides.auditDb.collection('audit') : store.audit, ctx.logger, { writeTimeoutMs: config.AUDIT_WRITE_TIMEOUT_MS });
  const access = new ConversationAccessStore(db);
  const guard = new ReadGuard(store, access, { windowMs: config.CONVERSATION_ACCESS_HOURS * 3_600_000, catchUpMs: config.ACCESS_CATCH_UP_MS });
  ctx.onStop('audit log', () => audit.flush());

  const projection = new Projection(store, ctx.logger, config.DEFAULT_PHONE_COUNTRY);
  if (config.PROJECTION_ENABLED) {
    const kafka = await connectKafka(ctx, config);
    // From the beginning: a new deployment rebuilds every history from the topics.
    await kafka
      .consumer({ groupId: config.PROJECTION_GROUP_ID, fromBeginning: config.PROJECTION_FROM_BEGINNING })
      .on(topics.contactInbound, async ({ value }) => {
        await projection.onContact(value);
        access.changed(value.conversationId);
      })
      .on(topics.conversationEvents, async ({ value }) => {
        // Access first: a desk may already be waiting for this offer.
        await access.onConversationEvent(value);
        await projection.onConversationEvent(value);
      })
      .start();
  }

  const api = customerRecordApi({ store, audit, guard, cache, verify, logger: ctx.logger, defaultCountry: config.DEFAULT_PHONE_COUNTRY, windowDays: config.REGULAR_WINDOW_DAYS, callerLimit: new RateLimiter(config.CALLER_RATE_LIMIT_PER_MINUTE, 60_000) });
  const grpc = await startGrpcServer(ctx, { host: config.BIND_HOST, port: config.GRPC_PORT }, ['contactcenter.v1.CustomerRecordService'], (server) =>
    server.addService(CustomerRecordServiceService, api),
  );
  const httpPort = await serveOps(ctx, config.HTTP_PORT, config.BIND_HOST);
  return { grpcPort: grpc.port, httpPort, store, projection, audit, access };
}
