// Why a Twilio webhook is not answered 200, and the one place each failure gets its HTTP status:
// a request Twilio should not send again is 4xx; Kafka and the spool both unable to take a
// contact is 503, so Twilio retries or uses its Fallback URL; anything else is 500.
import { KafkaUnavailableError } from '#libs/kafka';
import { InvalidNumberError } from './sms';
import { SpoolRefusedError } from './spool';

/** The base of the webhook's refusals: each with its status. */
export class WebhookError extends Error {
  constructor(
    readonly status: 400 | 403 | 404 | 405 | 413 | 415 | 429,
    message: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class NotPostError extends WebhookError {
  constructor() {
    super(405, 'Twilio webhooks are POST requests');
  }
}

/** The address sent too many unsigned or badly signed requests this minute. */
export class SourceCutOffError extends WebhookError {
  constructor() {
    super(429, 'too many unsigned or badly signed requests from this address; try again later');
  }
}

export class BadSignatureError extends WebhookError {
  constructor() {
    super(403, 'missing or invalid X-Twilio-Signature');
  }
}

/** A field the route needs (a MessageSid, a CallSid) is absent or not what Twilio sends. */
export class MissingFieldError extends WebhookError {
  constructor(readonly field: string) {
    super(400, `${field} is missing or malformed`);
  }
}

/** A message with one `whatsapp:` address and one plain number: Twilio never sends such a pair. */
export class MixedChannelError extends WebhookError {
  constructor() {
    super(400, 'From and To must both be whatsapp: addresses or both be phone numbers');
  }
}

/** A voicemail whose RecordingUrl is not a web address. */
export class InvalidRecordingError extends WebhookError {
  constructor(url: string) {
    super(400, `RecordingUrl "${url.slice(0, 60)}" is not an http(s) address`);
  }
}

/** A call webhook for a CallSid this service never recorded. */
export class UnknownCallError extends WebhookError {
  constructor(readonly callSid: string) {
    super(404, `unknown call ${callSid}`);
  }
}

interface WebhookReply {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export function webhookReplyTo(err: unknown): WebhookReply {
  const status = statusOf(err);
  const body = status === 500 ? 'internal error' : err instanceof Error ? err.message : String(err);
  // A body refused half-read is not read on: the connection closes after the answer.
  const extra: Record<string, string> = status === 503 ? { 'retry-after': '5' } : status === 413 ? { connection: 'close' } : {};
  return { status, headers: { 'content-type': 'text/plain', ...extra }, body };
}

function statusOf(err: unknown): number {
  if (err instanceof WebhookError) return err.status;
  if (err instanceof InvalidNumberError) return 400;
  if (err instanceof KafkaUnavailableError || err instanceof SpoolRefusedError) return 503;
  return 500;
}
