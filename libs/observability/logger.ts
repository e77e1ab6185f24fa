// JSON logs with pino. Customer data never belongs in a log line: the redaction below is a
// safety net for the field names that carry it, not a licence to log whole events.
import { pino, type Logger } from 'pino';
import { activeTraceIds } from '../tracing/spans';

export type { Logger };

const PII_FIELDS = [
  'email',
  'phone',
  'text',
  'body',
  'subject',
  'sender',
  'recipient',
  'address',
  'password',
  'token',
  'authorization',
  'identity',
  'identities',
  'displayName',
];

export function createLogger(service: string, level = process.env.LOG_LEVEL ?? 'info'): Logger {
  return pino({
    name: service,
    level,
    base: { service, pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: [...PII_FIELDS, ...PII_FIELDS.map((f) => `*.${f}`)], censor: '[redacted]' },
    formatters: { level: (label) => ({ level: label }) },
    // trace_id and span_id of the span the line is written in (nothing with tracing off).
    mixin: activeTraceIds,
  });
}

/** The message and context of any thrown value, for a log line. */
export function errorDetails(err: unknown): Record<string, unknown> {
  if (err instanceof Error) {
    return { error: err.message, errorName: err.name, ...(err.cause ? { cause: String(err.cause) } : {}) };
  }
  return { error: String(err) };
}
