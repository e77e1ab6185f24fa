// What the Messages resource of the stand-in takes, as Twilio documents it: the parameters of
// `messages.create`, a template of the Content API (ContentSid HX… with ContentVariables), and
// WhatsApp's rule that a free-form message goes out only within 24 hours of the customer's last
// message. No I/O.

/** The parameters `messages.create` has (Twilio's Messages resource, 2010-04-01). */
const PARAMETERS = new Set([
  'To',
  'From',
  'MessagingServiceSid',
  'Body',
  'MediaUrl',
  'ContentSid',
  'ContentVariables',
  'StatusCallback',
  'ApplicationSid',
  'MaxPrice',
  'ProvideFeedback',
  'Attempt',
  'ValidityPeriod',
  'ForceDelivery',
  'ContentRetention',
  'AddressRetention',
  'SmartEncoded',
  'PersistentAction',
  'TrafficType',
  'ShortenUrls',
  'ScheduleType',
  'SendAt',
  'SendAsMms',
  'MessageIntent',
  'RiskCheck',
  'FallbackFrom',
]);

/** WhatsApp's customer service window. */
const WHATSAPP_WINDOW_MS = 24 * 3600_000;

export class MessageRefusal extends Error {
  constructor(
    readonly status: number,
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

export interface MessageRequest {
  to: string;
  from: string;
  body: string;
  contentSid?: string;
  /** The variables as posted (a JSON object of texts). */
  contentVariables?: string;
}

/**
 * A Messages form checked as Twilio checks it. Twilio itself passes over a parameter it does not
 * know; the stand-in refuses one (400, 20001), so a misspelt parameter fails in tests instead of
 * being lost in silence.
 */
export function readMessage(form: URLSearchParams): MessageRequest {
  const unknown = [...new Set(form.keys())].filter((k) => !PARAMETERS.has(k));
  if (unknown.length) throw new MessageRefusal(400, 20001, `Unknown parameter${unknown.length > 1 ? 's' : ''}: ${unknown.join(', ').slice(0, 200)}`);
  const to = form.get('To') ?? '';
  const from = form.get('From') ?? form.get('MessagingServiceSid') ?? '';
  if (!to) throw new MessageRefusal(400, 21604, "A 'To' phone number is required.");
  if (!from) throw new MessageRefusal(400, 21603, "A 'From' phone number is required.");
  if (to.startsWith('whatsapp:') !== from.startsWith('whatsapp:'))
    throw new MessageRefusal(400, 21910, 'Invalid From and To pair. From and To should be of the same channel');
  const contentSid = form.get('ContentSid') ?? undefined;
  const contentVariables = form.get('ContentVariables') ?? undefined;
  if (contentSid !== undefined && !/^HX[0-9a-fA-F]{32}$/.test(contentSid)) throw new MessageRefusal(400, 21655, 'The ContentSid is Invalid.');
  if (contentVariables !== undefined && (contentSid === undefined || !variablesValid(contentVariables)))
    throw new MessageRefusal(400, 21656, 'The ContentVariables Parameter is invalid.');
  const body = form.get('Body') ?? (contentSid ? `template ${contentSid}` : form.getAll('MediaUrl').join('\n'));
  if (!body) throw new MessageRefusal(400, 21602, 'Message body is required.');
  return { to, from, body, ...(contentSid ? { contentSid } : {}), ...(contentVariables ? { contentVariables } : {}) };
}

function variablesValid(json: string): boolean {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    return false;
  }
  return Boolean(value) && typeof value === 'object' && !Array.isArray(value) && Object.values(value as object).every((v) => typeof v === 'string');
}

/**
 * The last time each customer wrote to each WhatsApp sender, as Twilio knows it from the messages
 * it delivered to the company's webhook. The stand-in delivers none itself, so tests tell it
 * (`customerWrote`) when they post a customer's message to the service's webhook.
 */
export class WhatsAppWindows {
  private readonly lastInbound = new Map<string, number>();

  customerWrote(customer: string, company: string, at: Date): void {
    const key = `${customer}|${company}`;
    this.lastInbound.set(key, Math.max(this.lastInbound.get(key) ?? 0, at.getTime()));
  }

  /** A free-form WhatsApp message outside the window: refused with Twilio's 63016. Templates go at any time. */
  check(m: MessageRequest, now: Date): void {
    if (!m.to.startsWith('whatsapp:') || m.contentSid) return;
    const last = this.lastInbound.get(`${m.to}|${m.from}`);
    if (last === undefined || now.getTime() - last >= WHATSAPP_WINDOW_MS)
      throw new MessageRefusal(
        400,
        63016,
        'Failed to send freeform message because you are outside the allowed window. If you are using WhatsApp, please use a Message Template.',
      );
  }
}
