// The integration API with the real services behind it: customer-record and an active routing
// instance (a consumer group of its own), called over gRPC with the API's own service key.
import { readSigningKey } from '#libs/auth';
import { loadConfig } from '#libs/config';
import { dropDatabase, KAFKA_BROKERS, MONGODB_URI, testAuthEnv, testContext, uniqueId, waitFor } from '#libs/testing';
import { startHarness, type Harness } from '../../customer-record/test/harness';
import { startRouting, type RunningRouting } from '../../routing/src/service';
import { routingConfig } from '../../routing/src/config';
import { grpcBackends } from '../src/backends';
import { grpcConversationBackend } from '../src/conversation-backends';
import { startApiHarness, type ApiHarness } from './harness';

export interface ConversationHarness {
  record: Harness;
  routing: RunningRouting;
  /** Routing's instance id, to tell its records from other tests' instances'. */
  routingInstance: string;
  api: ApiHarness;
  /** Stops routing alone, as a routing outage or restart would leave the API. */
  stopRouting(): Promise<void>;
  stop(): Promise<void>;
}

export async function startConversationHarness(
  options: { env?: Record<string, string>; recordEnv?: Record<string, string> } = {},
): Promise<ConversationHarness> {
  const record = await startHarness({ env: { PROJECTION_FROM_BEGINNING: 'false', ...options.recordEnv } });
  const routingCtx = testContext('routing');
  const routingDb = uniqueId('routing_api').replace(/-/g, '_');
  const routing = await startRouting(
    routingCtx,
    loadConfig(routingConfig, {
      KAFKA_BROKERS: KAFKA_BROKERS.join(','),
      MONGODB_URI,
      MONGODB_DATABASE: routingDb,
      GRPC_PORT: '0',
      HTTP_PORT: '0',
      ...testAuthEnv('routing'),
      ROUTING_CONSUMER_GROUP: uniqueId('routing-api'),
      // No take-over is tested here: a loaded machine's pauses must not cost routing its group.
      ROUTING_SESSION_TIMEOUT_MS: '20000',
      ROUTING_HEARTBEAT_MS: '500',
      LOG_LEVEL: 'silent',
      CUSTOMER_RECORD_GRPC_ADDR: `127.0.0.1:${record.service.grpcPort}`,
      // A shared two-core machine answers a look-up slower than production's deadline.
      ROUTING_CUSTOMER_LOOKUP_TIMEOUT_MS: '3000',
    }),
  );
  await waitFor(() => routing.ownership.isActive, 30_000, 'routing to become active');
  const signer = readSigningKey(testAuthEnv('integration-api').AUTH_PRIVATE_KEY_FILE!, 'integration-api');
  const routingAddr = `127.0.0.1:${routing.grpcPort}`;
  const backends = grpcBackends({ routing: routingAddr, customerRecord: `127.0.0.1:${record.service.grpcPort}`, signer, timeoutMs: 8000 });
  const conversations = grpcConversationBackend({ routing: routingAddr, signer, timeoutMs: 8000 });
  const api = await startApiHarness({ backends, conversations, env: options.env });
  return {
    record,
    routing,
    routingInstance: routingCtx.instanceId,
    api,
    stopRouting: () => routingCtx.stop(),
    async stop() {
      await api.stop();
      backends.close();
      conversations.close();
      await routingCtx.stop();
      await dropDatabase(routingDb);
      await record.stop();
    },
  };
}
