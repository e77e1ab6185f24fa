// WhatsApp rules with no I/O. Twilio delivers WhatsApp messages to the same Messaging webhook as
// SMS, with `whatsapp:`-prefixed addresses. The prefixed address is the channel address: threads,
// opt-outs and the reply window are kept per prefixed pair, apart from SMS on the same number,
// while the customer's identity stays the bare E.164 number (one customer across SMS, voice and
// WhatsApp).
import { InvalidEventError } from '#libs/kafka';
import { Channel } from '#libs/proto';

const PREFIX = 'whatsapp:';

/** WhatsApp's customer-service window: free replies until 24 hours after the customer's last message. */
export const REPLY_WINDOW_MS = 24 * 3600_000;

export function isWhatsAppAddress(value: string | undefined): boolean {
  return (value ?? '').toLowerCase().startsWith(PREFIX);
}

/** The number in an address, without its `whatsapp:` prefix. */
export function bareNumber(value: string | undefined): string | undefined {
  return isWhatsAppAddress(value) ? value!.slice(PREFIX.length) : value;
}

/** The address a number has on a messaging channel: `whatsapp:+…` on WhatsApp, the number itself on SMS. */
export function messagingAddress(channel: Channel, e164: string): string {
  return channel === Channel.CHANNEL_WHATSAPP ? `${PREFIX}${e164}` : e164;
}

/** Twilio's error for a free-form WhatsApp message outside the window (on the REST answer or a status callback), and its words. */
export const TWILIO_WINDOW_CLOSED = '63016';
export const TWILIO_WINDOW_CLOSED_WORDS =
  "WhatsApp refused a free-form message outside the 24 hours after the customer's last message: write first with an approved template";

export type ReplyWindow = { open: true; closesAt: Date } | { open: false; closedAt?: Date };

/** Whether a free-form message may go to the customer now, from their last message to us. */
export function replyWindow(lastInboundAt: Date | undefined, now: Date): ReplyWindow {
  if (!lastInboundAt) return { open: false };
  const closesAt = new Date(lastInboundAt.getTime() + REPLY_WINDOW_MS);
  return closesAt.getTime() > now.getTime() ? { open: true, closesAt } : { open: false, closedAt: closesAt };
}

/** Why a reply was not sent as written outside the window, in the words the agent reads. */
export function windowClosedDetail(window: ReplyWindow, templateSent: boolean): string {
  const since = !window.open && window.closedAt ? ` (closed at ${window.closedAt.toISOString()})` : ' (the customer has not written on WhatsApp)';
  const rule = `WhatsApp allows free replies only within 24 hours of the customer's last message${since}`;
  return templateSent
    ? `${rule}: the approved template asking them to reply was sent instead; send this reply again once they answer`
    : `${rule}, and no approved template is configured (WHATSAPP_REOPEN_TEMPLATE_SID): nothing was sent`;
}

/** An approved template and its variables, as Twilio's Content API takes them. */
export interface ApprovedTemplate {
  contentSid: string;
  /** A JSON object from "1", "2", ... to each variable's value. */
  contentVariables: string;
}

/**
 * The template routing put on a company's first WhatsApp message (`whatsapp-content-sid`,
 * `whatsapp-content-variables`), or undefined for a free-form message. Routing checked its shape;
 * it is checked again here, at the edge to Twilio, and a malformed one is an invalid event.
 */
export function approvedTemplate(metadata: Record<string, string>): ApprovedTemplate | undefined {
  const contentSid = metadata['whatsapp-content-sid'];
  if (!contentSid) return undefined;
  if (!/^HX[0-9a-fA-F]{32}$/.test(contentSid)) throw new InvalidEventError('whatsapp-content-sid is not a Content SID (HX and 32 hexadecimal digits)');
  const contentVariables = metadata['whatsapp-content-variables'] || '{}';
  let variables: unknown;
  try {
    variables = JSON.parse(contentVariables);
  } catch {
    throw new InvalidEventError('whatsapp-content-variables is not JSON');
  }
  if (!variables || typeof variables !== 'object' || Array.isArray(variables) || !Object.values(variables).every((v) => typeof v === 'string'))
    throw new InvalidEventError('whatsapp-content-variables must be an object of texts');
  return { contentSid, contentVariables };
}
