// Configuration comes from environment variables, validated once at start-up.
// Every wrong variable is named with what is wrong with it, all at once.
import { z } from 'zod';

export interface ConfigProblem {
  variable: string;
  message: string;
}

export class ConfigError extends Error {
  constructor(readonly problems: ConfigProblem[]) {
    super(`invalid configuration:\n${problems.map((p) => `  ${p.variable}: ${p.message}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Variables whose value is never repeated in an error: keys, secrets, passwords, tokens. */
const SECRET_NAME = /SECRET|PASSWORD|PASSPHRASE|TOKEN|CREDENTIAL|PRIVATE|(^|_)KEYS?($|_)/i;

function isSecretVariable(name: string): boolean {
  return SECRET_NAME.test(name);
}

/**
 * What an error may repeat of a value: nothing of a secret, and a URL without its password
 * (mongodb://user:pass@host).
 */
function shownValue(variable: string, value: string): string | undefined {
  if (isSecretVariable(variable)) return undefined;
  return value.replace(/(\/\/[^/@:\s]*):[^/@\s]*@/g, '$1:***@');
}

/** A validator's message with the received value as it may be shown (zod may quote what it got). */
function withoutValue(message: string, value: string | undefined, shown: string | undefined): string {
  if (!value) return message;
  return message.split(value).join(shown ?? '[value hidden]');
}

export function loadConfig<S extends z.ZodRawShape>(shape: S, env: Record<string, string | undefined> = process.env): z.output<z.ZodObject<S>> {
  const result = z.object(shape).safeParse(env);
  if (result.success) return result.data;
  throw new ConfigError(
    result.error.issues.map((issue) => {
      const variable = String(issue.path[0] ?? '(environment)');
      const value = env[variable];
      const missing = value === undefined && issue.code === 'invalid_type';
      const shown = value === undefined ? undefined : shownValue(variable, value);
      const given = shown === undefined ? '' : ` (got "${shown}")`;
      const message = withoutValue(issue.message, value, shown);
      return { variable, message: missing ? 'is required but not set' : `${message}${given}` };
    }),
  );
}

/** A TCP port; 0 asks the operating system for a free one (used by tests). */
export const port = (defaultPort: number) =>
  z.coerce.number().int().min(0, 'must be a port number 0-65535').max(65535, 'must be a port number 0-65535').default(defaultPort);

export const positiveInt = (defaultValue: number) => z.coerce.number().int().positive('must be a whole number above 0').default(defaultValue);

export const durationMs = (defaultValue: number) => z.coerce.number().int().min(0, 'must be a number of milliseconds, 0 or more').default(defaultValue);

/** A two-letter country code (ISO 3166 alpha-2). */
export const countryCode = (defaultValue: string) =>
  z
    .string()
    .regex(/^[A-Z]{2}$/, 'must be a two-letter country code such as US or FR')
    .default(defaultValue);
export const bool = (defaultValue: boolean) =>
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no'], { message: 'must be true or false' })
    .default(defaultValue ? 'true' : 'false')
    .transform((v) => v === 'true' || v === '1' || v === 'yes');

/** A comma-separated list, each item trimmed, empty ones dropped; `.pipe` it to check the items. */
export const commaList = (defaultValue = '') =>
  z
    .string()
    .default(defaultValue)
    .transform((s) =>
      s
        .split(',')
        .map((item) => item.trim())
        .filter(Boolean),
    );

const brokerList = commaList('127.0.0.1:9092').pipe(
  z.array(z.string().regex(/^[^\s:]+:\d{1,5}$/, 'each broker must be host:port, separated by commas')).min(1, 'names no broker'),
);

/** Tracing (docs/tracing.md): read by every service's runtime before its own configuration. */
export const tracingConfig = {
  /** OTLP/HTTP collector base URL (spans go to `<url>/v1/traces`); unset turns tracing off. */
  OTEL_EXPORTER_OTLP_ENDPOINT: z.url({ protocol: /^https?$/, message: 'must be an http:// or https:// URL' }).optional(),
  /** The service name on spans; by default the service's folder name. */
  OTEL_SERVICE_NAME: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,60}$/, 'must be 1-60 letters, digits, _, . or -')
    .optional(),
  /** Longest wait before finished spans are exported in a batch. */
  OTEL_BSP_SCHEDULE_DELAY: durationMs(5000),
};

/** What every service reads. */
export const commonConfig = {
  /** Kafka bootstrap brokers, host:port separated by commas. */
  KAFKA_BROKERS: brokerList,
  /** Partitions of the topics a service creates when they do not exist. */
  KAFKA_TOPIC_PARTITIONS: positiveInt(3),
  /** Replication factor of the topics a service creates (3 on a production cluster). */
  KAFKA_REPLICATION_FACTOR: positiveInt(1),
  /**
   * How long the event topics a service creates keep their records (their retention.ms; not the compacted ones): how long the raw
   * bytes of an erased customer's messages can still be read from a topic (docs/customer-record.md).
   */
  KAFKA_EVENT_RETENTION_DAYS: positiveInt(30),
  /** How long an idle fetch waits at the broker: lower is a faster round trip, higher is fewer requests. */
  KAFKA_FETCH_MAX_WAIT_MS: positiveInt(5),
  /** The store (a MongoDB replica set, or the local store). */
  MONGODB_URI: z
    .string()
    .default('mongodb://127.0.0.1:27017')
    .refine((s) => /^mongodb(\+srv)?:\/\/.+/.test(s), 'must start with mongodb:// or mongodb+srv://'),
  /** The services' database. */
  MONGODB_DATABASE: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,60}$/, 'must be 1-60 letters, digits, _ or -')
    .default('contactcenter'),
  /** Least severe log level written (JSON lines on standard output). */
  LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
  /** Address every server binds to; loopback unless deployed behind something that needs more. */
  BIND_HOST: z.string().default('127.0.0.1'),
  /** Names this instance in logs, metrics and CloudEvents ce_source. Email and sms-voice write it on their delivery claims, so it must be unique among the instances running at one time (a pod name); unset, `<host>-<pid>`. */
  INSTANCE_ID: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,60}$/, 'must be 1-60 letters, digits, _, . or -')
    .optional(),
  ...tracingConfig,
};

export { z };
