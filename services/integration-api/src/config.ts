// The integration API's configuration: the environment it reads.
import { optionalSigningKeyConfig } from '#libs/auth';
import { commonConfig, ConfigError, durationMs, port, positiveInt, z } from '#libs/config';
import { metricsConfig } from '#libs/observability';
import { trustedProxyConfig } from '#libs/web';

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
