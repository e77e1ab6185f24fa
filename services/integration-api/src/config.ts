// The integration API's configuration: the environment it reads.
import { optionalSigningKeyConfig } from '#libs/auth';
import { bool, commonConfig, ConfigError, durationMs, port, positiveInt, z } from '#libs/config';
import { metricsConfig } from '#libs/observability';
import { trustedProxyConfig } from '#libs/web';
import { followErasuresConfig } from '#libs/erasure';

const grpcAddress = z
  .string()
  .regex(/^[^\s:]+:\d{1,5}$/, 'must be host:port')
  .optional();

export const integrationApiConfig = {
  ...commonConfig,
  ...trustedProxyConfig,
  ...metricsConfig,
  /** The integration API's own key, to sign its calls to routing and customer-record; required with either address. */
  ...optionalSigningKeyConfig('integration-api'),
  /** Erased customers' threads, submissions and webhook deliveries are deleted. */
  ...followErasuresConfig,
  /** The HTTP API (`/v1/…`, `/openapi.json`) and the operations paths. */
  HTTP_PORT: port(8106),
  /** Routing's gRPC address, for `GET /v1/queues` and `/v1/conversations…`; unset, those endpoints answer 503. */
  ROUTING_GRPC_ADDR: grpcAddress,
  /** Customer-record's gRPC address, for `GET /v1/customers/…`; unset, those endpoints answer 503. */
  CUSTOMER_RECORD_GRPC_ADDR: grpcAddress,
  /** How long a read waits for routing or customer-record. */
  INTEGRATION_API_BACKEND_TIMEOUT_MS: durationMs(3000),
  /** How long a submitted contact waits for Kafka's acknowledgement before the caller gets 503. */
  PUBLISH_TIMEOUT_MS: durationMs(5000),
  /** Largest request body accepted. */
  INTEGRATION_API_MAX_BODY_BYTES: positiveInt(64 * 1024),
  /** Company-initiated conversations (POST /v1/conversations) one API key may start per hour, per instance. */
  INTEGRATION_API_STARTS_PER_HOUR: positiveInt(60),
  /** Requests one address may make per minute with a missing, unknown or revoked key before it gets 429. */
  INTEGRATION_API_BAD_KEYS_PER_MINUTE: positiveInt(30),
  /** Outbound webhooks: the consumer that records deliveries and the loop that sends them. False serves the endpoints only. */
  WEBHOOKS_ENABLED: bool(true),
  /** Consumer group of the webhook intake; every instance of the service shares it. */
  WEBHOOK_GROUP_ID: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,100}$/, 'must be 1-100 letters, digits, _, . or -')
    .default('integration-api-webhooks'),
  /** For development only: lets subscriptions point at loopback and private addresses (a receiver on this machine). Link-local and metadata addresses stay refused. */
  WEBHOOK_ALLOW_PRIVATE_TARGETS: bool(false),
  /** How long one delivery attempt waits for the receiver's answer. */
  WEBHOOK_TIMEOUT_MS: positiveInt(10_000),
  /** Attempts one subscription may have in flight on one instance. */
  WEBHOOK_CONCURRENCY_PER_SUBSCRIPTION: positiveInt(4),
  /** Attempts all subscriptions together may have in flight on one instance. */
  WEBHOOK_MAX_IN_FLIGHT: positiveInt(128),
  /** The wait after a first failed attempt; each later wait is three times longer, at most WEBHOOK_MAX_RETRY_WAIT_MS. */
  WEBHOOK_FIRST_RETRY_MS: positiveInt(10_000),
  /** The longest wait between two attempts. */
  WEBHOOK_MAX_RETRY_WAIT_MS: positiveInt(4 * 3_600_000),
  /** How long after its first attempt (or its replay) a delivery is still tried before it is failed. */
  WEBHOOK_RETRY_FOR_MS: positiveInt(24 * 3_600_000),
  /** How often each instance reads the due queue (what other instances recorded or left). */
  WEBHOOK_SCAN_MS: positiveInt(2000),
  /** Webhook subscriptions one application may have. */
  WEBHOOK_MAX_SUBSCRIPTIONS_PER_APPLICATION: positiveInt(20),
  /** How long a rotated secret still signs deliveries beside the new one. */
  WEBHOOK_SECRET_OVERLAP_MS: positiveInt(24 * 3_600_000),
  /** How long delivered and failed deliveries stay in the log. */
  WEBHOOK_LOG_RETENTION_DAYS: positiveInt(7),
};

export type IntegrationApiConfig = z.output<z.ZodObject<typeof integrationApiConfig>>;

/** Either backend address needs the service's own key to call it. */
export function checkIntegrationApiConfig(config: IntegrationApiConfig): void {
  if ((config.ROUTING_GRPC_ADDR || config.CUSTOMER_RECORD_GRPC_ADDR) && !config.AUTH_PRIVATE_KEY_FILE)
    throw new ConfigError([
      {
        variable: 'AUTH_PRIVATE_KEY_FILE',
        message: 'must be set when ROUTING_GRPC_ADDR or CUSTOMER_RECORD_GRPC_ADDR is: the integration API signs its calls with its own key',
      },
    ]);
}
