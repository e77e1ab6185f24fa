// Twilio's webhook bodies (application/x-www-form-urlencoded, UTF-8) read strictly: what Twilio
// never sends (bytes that are not UTF-8, broken %-escapes, a field twice, thousands of fields)
// is refused with its own error before any signature is computed over it.
import type http from 'node:http';
import { WebhookError } from './webhook-errors';

export type WebhookParams = Record<string, string>;

/** A webhook body that is not a form Twilio would send: malformed, too big or of another type. */
export class WebhookFormError extends WebhookError {
  constructor(
    override readonly status: 400 | 413 | 415,
    message: string,
  ) {
    super(status, message);
  }
}

/** Far more than any Twilio webhook carries (an MMS with ten media has about 40). */
const MAX_FORM_FIELDS = 200;
const utf8 = new TextDecoder('utf-8', { fatal: true });

function decodeComponent(raw: string, what: string): string {
  if (/%(?![0-9A-Fa-f]{2})/.test(raw)) throw new WebhookFormError(400, `${what} has a broken %-escape`);
  try {
    return decodeURIComponent(raw.replace(/\+/g, ' '));
  } catch {
    throw new WebhookFormError(400, `${what} does not decode to UTF-8 text`);
  }
}

/** The fields of a form body; every name once. */
export function parseWebhookForm(body: Uint8Array): WebhookParams {
  let text: string;
  try {
    text = utf8.decode(body);
  } catch {
    throw new WebhookFormError(400, 'body is not UTF-8');
  }
  const params: WebhookParams = Object.create(null) as WebhookParams;
  const pairs = text === '' ? [] : text.split('&');
  if (pairs.length > MAX_FORM_FIELDS) throw new WebhookFormError(400, `more than ${MAX_FORM_FIELDS} fields`);
  for (const pair of pairs) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const name = decodeComponent(eq < 0 ? pair : pair.slice(0, eq), 'a field name');
    const value = decodeComponent(eq < 0 ? '' : pair.slice(eq + 1), `field ${name.slice(0, 40)}`);
    if (!/^[^\x00-\x1f\x7f]{1,64}$/.test(name)) throw new WebhookFormError(400, 'a field name is empty, longer than 64 characters or has control characters');
    if (name in params) throw new WebhookFormError(400, `field ${name} is given more than once`);
    params[name] = value;
  }
  return { ...params };
}

/** Reads and parses a webhook body of at most maxBytes. */
export async function readWebhookForm(req: http.IncomingMessage, maxBytes: number): Promise<WebhookParams> {
  const type = req.headers['content-type'] ?? '';
  if (!/^application\/x-www-form-urlencoded\s*(;\s*charset="?utf-8"?\s*)?$/i.test(type))
    throw new WebhookFormError(415, 'expected application/x-www-form-urlencoded (UTF-8)');
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > maxBytes) throw new WebhookFormError(413, `request body over ${maxBytes} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > maxBytes) throw new WebhookFormError(413, `request body over ${maxBytes} bytes`);
    chunks.push(chunk as Buffer);
  }
  return parseWebhookForm(Buffer.concat(chunks));
}
