// Wiring: configuration → store (keys, threads, audit), Kafka, the gRPC backends → the HTTP API.
import { readFileSync } from 'node:fs';
import type { ISocketFactory } from 'kafkajs';
import { followErasures } from '#libs/erasure';
import { closeServer, createOpsHandler, listen } from '#libs/observability';
import { connectKafka, connectMongo, type ServiceContext } from '#libs/service';
import { ApiAudit } from './audit';
import { grpcBackends, type Backends } from './backends';
import { checkIntegrationApiConfig, type IntegrationApiConfig } from './config';
import { contactRoute } from './contacts';
import { conversationActionRoutes } from './conversation-actions';
import { grpcConversationBackend, type ConversationBackend } from './conversation-backends';
import { conversationReadRoutes } from './conversation-routes';
import { conversationStartRoute } from './conversation-start';
import { ConversationStore } from './conversations';
import { eraseApiData } from './erasure';
import { createApiServer } from './http';
import { ApiKeyStore } from './key-store';
import { readRoutes } from './reads';
import { startWebhooks } from './webhooks';
import { RequestClaims } from './request-claims';

/** The document kept in the repository, served as it is at /openapi.json. */
export const OPENAPI_FILE = new URL('../openapi.json', import.meta.url);

export async function startIntegrationApi(
  ctx: ServiceContext,
  config: IntegrationApiConfig,
  overrides: { backends?: Backends; conversations?: ConversationBackend; socketFactory?: ISocketFactory } = {},
) {
  checkIntegrationApiConfig(config);
  const { db } = await connectMongo(ctx, config);
  const kafka = await connectKafka(ctx, config, { publishTimeoutMs: config.PUBLISH_TIMEOUT_MS, socketFactory: overrides.socketFactory });
  const { producer } = kafka;
  // Threads and webhook deliveries of erased customers go before requests are served, and as each erasure arrives.
  await followErasures(
    { kafka: kafka.kafka, logger: ctx.logger, name: ctx.name, secret: config.ERASURE_KEY, db, onStop: (what, stop) => ctx.onStop(what, stop) },
    { what: 'integration API threads and webhook deliveries', apply: (erased) => eraseApiData(db, erased) },
  );
  const backends =
    overrides.backends ??
    grpcBackends({
      routing: config.ROUTING_GRPC_ADDR,
      customerRecord: config.CUSTOMER_RECORD_GRPC_ADDR,
      signer: config.AUTH_PRIVATE_KEY_FILE,
      timeoutMs: config.INTEGRATION_API_BACKEND_TIMEOUT_MS,
    });
  const conversations =
    overrides.conversations ??
    grpcConversationBackend({ routing: config.ROUTING_GRPC_ADDR, signer: config.AUTH_PRIVATE_KEY_FILE, timeoutMs: config.INTEGRATION_API_BACKEND_TIMEOUT_MS });
  ctx.onStop('backend clients', () => {
    backends.close();
    conversations.close();
  });
  const keys = new ApiKeyStore(db);
  const claims = new RequestClaims(db);
  const webhookRoutes = await startWebhooks(ctx, config, { db, kafka });
  const server = createApiServer({
    routes: [
      contactRoute({ conversations: new ConversationStore(db), producer }),
      ...readRoutes(backends),
      ...conversationReadRoutes({ conversations, customers: backends }),
      ...conversationActionRoutes({ conversations, claims }),
      conversationStartRoute({ conversations, customers: backends, claims, startsPerHour: config.INTEGRATION_API_STARTS_PER_HOUR }),
      ...webhookRoutes,
    ],
    keys,
    audit: new ApiAudit(db),
    openapi: JSON.stringify(JSON.parse(readFileSync(OPENAPI_FILE, 'utf8'))),
    // Integrators reach this port: /metrics needs the bearer token here.
    ops: createOpsHandler(ctx.metrics, ctx.readiness, { publicPort: { metricsToken: config.METRICS_TOKEN } }),
    logger: ctx.logger,
    maxBodyBytes: config.INTEGRATION_API_MAX_BODY_BYTES,
    badKeysPerMinute: config.INTEGRATION_API_BAD_KEYS_PER_MINUTE,
    trustedProxies: config.TRUSTED_PROXIES,
  });
  server.requestTimeout = 30_000;
  const port = await listen(server, config.HTTP_PORT, config.BIND_HOST);
  ctx.onStop('http server', () => closeServer(server));
  return { port, keys, db };
}
