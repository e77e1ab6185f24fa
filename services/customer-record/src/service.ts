// Wiring: configuration → store, projection consumer, gRPC API and ops HTTP.
import { join } from 'node:path';
import type { Db } from 'mongodb';
import { createTokenVerifier, type TokenVerifier } from '#libs/auth';
import { CustomerRecordServiceService, type GetCustomerContextResponse } from '#libs/proto';
import { RateLimiter } from '#libs/rate-limit';
import { connectKafka, connectMongo, serveOps, startGrpcServer, type ServiceContext } from '#libs/service';
import { customerRecordApi } from './api';
import { AuditLog } from './audit';
import { ContextCache } from './cache';
import type { CustomerRecordConfig } from './config';
import { startProjection } from './consumers';
import { ConversationAccessStore } from './conversation-access';
import { ErasedSubjects } from './erasure';
import { ErasureTopic } from './erasure-topic';
import { MergeAnnouncements } from './merge-announcements';
import { Projection } from './projection';
import { BatchProjection } from './projection-batches';
import { ReadGuard } from './read-guard';
import { RetentionSweep } from './retention-sweep';
import { startSearchIndexing } from './search/kafka';
import { SqliteConversationIndex } from './search/sqlite-index';
import { CustomerStore } from './store';
import { cachingVerifier } from './tokens';

export interface CustomerRecordService {
  grpcPort: number;
  httpPort: number;
  store: CustomerStore;
  projection: Projection;
  audit: AuditLog;
  access: ConversationAccessStore;
  search: SqliteConversationIndex;
  erasures: ErasureTopic;
  retention: RetentionSweep;
  /** Milliseconds from the process's start to each step of the start-up (the first is module loading). */
  startup: Record<string, number>;
}

export async function startCustomerRecord(
  ctx: ServiceContext,
  config: CustomerRecordConfig,
  overrides: { verify?: TokenVerifier; auditDb?: Db } = {},
): Promise<CustomerRecordService> {
  const startup: Record<string, number> = {};
  const reached = (step: string) => (startup[step] = Math.round(performance.now()));
  reached('loaded');
  const verify = cachingVerifier(overrides.verify ?? createTokenVerifier({ keys: config.AUTH_PUBLIC_KEYS_DIR, audience: 'customer-record' }));
  const { db } = await connectMongo(ctx, config);
  const cache = new ContextCache<GetCustomerContextResponse>(config.CONTEXT_CACHE_TTL_MS);
  const rule = { minConversations: config.REGULAR_MIN_CONVERSATIONS, windowDays: config.REGULAR_WINDOW_DAYS };
  const store = new CustomerStore(db, rule, (ids) => cache.invalidate(ids));
  await store.ensureIndexes();
  reached('store');
  // A separate audit store is for tests that cut the audit write alone.
  const audit = new AuditLog(overrides.auditDb ? overrides.auditDb.collection('audit') : store.audit, ctx.logger, {
    writeTimeoutMs: config.AUDIT_WRITE_TIMEOUT_MS,
  });
  const access = new ConversationAccessStore(db);
  const guard = new ReadGuard(store, access, { windowMs: config.CONVERSATION_ACCESS_HOURS * 3_600_000, catchUpMs: config.ACCESS_CATCH_UP_MS });
  ctx.onStop('audit log', () => audit.flush());

  const projection = new Projection(store, ctx.logger, config.DEFAULT_PHONE_COUNTRY, store.intermediaries);
  const batches = new BatchProjection(store, projection, ctx.logger, config.DEFAULT_PHONE_COUNTRY);
  const kafka = await connectKafka(ctx, config);
  // Every erasure is known before anything is projected, so a replay never rebuilds an erased customer.
  const erasures = new ErasureTopic(kafka.kafka, kafka.producer, new ErasedSubjects(config.ERASURE_KEY, config.DEFAULT_PHONE_COUNTRY), ctx.logger);
  reached('kafka');
  await erasures.start();
  reached('erasures');
  ctx.onStop('erasure reader', () => erasures.stop());
  const erased = erasures.erased;
  const index = new SqliteConversationIndex(config.SEARCH_INDEX_DIR ? join(config.SEARCH_INDEX_DIR, 'conversations.sqlite') : ':memory:');
  ctx.onStop('search index', () => index.close());
  const searchGroup = {
    groupId: `${config.SEARCH_GROUP_PREFIX}-${index.indexId()}`,
    fromBeginning: config.PROJECTION_FROM_BEGINNING,
    sessionTimeoutMs: config.PROJECTION_SESSION_TIMEOUT_MS,
  };
  // Joined while the API already answers: reads need the store and the erasures, not the groups.
  const consuming = config.PROJECTION_ENABLED
    ? Promise.all([startProjection(kafka, config, { projection: batches, access, erased }), startSearchIndexing(kafka, index, searchGroup, erased)])
    : Promise.resolve();
  const retention = new RetentionSweep({
    store: store.retention,
    index,
    windows: {
      messageTextDays: config.RETENTION_MESSAGE_TEXT_DAYS,
      conversationDays: config.RETENTION_CONVERSATION_DAYS,
      auditDays: config.RETENTION_AUDIT_DAYS,
    },
    intervalMs: config.RETENTION_SWEEP_INTERVAL_MS,
    instanceId: ctx.instanceId,
    logger: ctx.logger,
    metrics: ctx.metrics,
  });
  const retentionTimer = setInterval(() => void retention.run(), config.RETENTION_SWEEP_INTERVAL_MS);
  ctx.onStop('retention sweep', () => clearInterval(retentionTimer));
  const announcements = new MergeAnnouncements(store.merges, kafka.producer, ctx.logger);
  const sweep = setInterval(() => void announcements.sweep(), config.MERGE_ANNOUNCE_SWEEP_MS);
  ctx.onStop('merge announcements', () => clearInterval(sweep));
  void announcements.sweep();

  const api = customerRecordApi({
    directory: store.directory,
    merging: store.merging,
    flagSettings: store.flagSettings,
    pages: store.pages,
    intermediaries: store.intermediaries,
    audit,
    announcements,
    guard,
    cache,
    verify,
    logger: ctx.logger,
    defaultCountry: config.DEFAULT_PHONE_COUNTRY,
    windowDays: config.REGULAR_WINDOW_DAYS,
    callerLimit: new RateLimiter(config.CALLER_RATE_LIMIT_PER_MINUTE, 60_000),
    search: { index, windowMs: config.CONVERSATION_ACCESS_HOURS * 3_600_000 },
    privacy: { erasure: store.erasure, topic: erasures, index, secret: config.ERASURE_KEY },
  });
  const serving = (async () => {
    const grpc = await startGrpcServer(
      ctx,
      { host: config.BIND_HOST, port: config.GRPC_PORT },
      ['contactcenter.v1.CustomerRecordService'],
      (server) => server.addService(CustomerRecordServiceService, api),
      { reflection: config.GRPC_REFLECTION },
    );
    const httpPort = await serveOps(ctx, config.HTTP_PORT, config.BIND_HOST);
    reached('serving');
    return { grpc, httpPort };
  })();
  const [{ grpc, httpPort }] = await Promise.all([serving, consuming.then(() => reached('joined'))]);
  return { grpcPort: grpc.port, httpPort, store, projection, audit, access, search: index, erasures, retention, startup };
}
