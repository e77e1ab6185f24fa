// Company-initiated conversations: the company writes first to a customer on email or SMS, as an
// application (the integration API) or as a person at the desk (an agent, an expert, or a
// supervisor's notice to a list of customers); a person also on WhatsApp, with an approved
// template outside the customer's 24-hour window. The first message goes out at once; the
// conversation then waits for the customer (no queue, no SLA). A person's conversation remembers
// who wrote and the queue's skill, so the customer's answer goes back to that queue, offered
// first to the writer. Kept apart from replies: its own reason codes and a `companyInitiated`
// mark on the conversation, so reports can count it on its own.
import type { ChannelName } from '#libs/contact';
import { type Identity, OutboundKind, type Tier, type WhatsAppTemplateMessage } from '#libs/proto';
import { authorOf, checkText, remember } from './applications';
import type { Classifier } from './classify';
import type { Core } from './context';
import { openRecord } from './intake';
import { inQuietHours, quietHoursText } from './quiet-hours';
import { type ConversationRecord, RoutingError } from './records';
import { reason } from './reasons';

/** Who starts it: an application, or a person at the desk. */
export type Starter = { application: string } | { staffId: string; tier: Tier; skill: string; noticeId: string };

export interface StartRequest {
  conversationId: string;
  starter: Starter;
  channel: ChannelName;
  customerId: string;
  recipient: Identity;
  subject: string;
  text: string;
  reference: string;
  /** On WhatsApp: the approved template the first message goes out as. */
  whatsappTemplate?: WhatsAppTemplateMessage;
}

const CONTENT_SID = /^HX[0-9a-fA-F]{32}$/;

/**
 * The channels each starter may open, and the template's shape: sms-voice sends it with Twilio's
 * ContentSid and ContentVariables, so both must be what Twilio takes.
 */
function checkChannel(s: StartRequest): Record<string, string> {
  const person = 'staffId' in s.starter;
  if (s.channel === 'whatsapp' && person) return templateMetadata(s.whatsappTemplate);
  if (s.channel !== 'email' && s.channel !== 'sms')
    throw new RoutingError('INVALID_ARGUMENT', `a company-initiated conversation is on email${person ? ', SMS or WhatsApp' : ' or SMS'}`);
  if (s.whatsappTemplate) throw new RoutingError('INVALID_ARGUMENT', 'whatsapp_template is for a conversation on WhatsApp');
  return {};
}

function templateMetadata(t: WhatsAppTemplateMessage | undefined): Record<string, string> {
  if (!t) return {};
  if (!CONTENT_SID.test(t.contentSid)) throw new RoutingError('INVALID_ARGUMENT', 'whatsapp_template.content_sid must be HX and 32 hexadecimal digits');
  let variables: unknown;
  try {
    variables = JSON.parse(t.variablesJson || '{}');
  } catch {
    throw new RoutingError('INVALID_ARGUMENT', 'whatsapp_template.variables_json is not JSON');
  }
  const values: [string, unknown][] = variables && typeof variables === 'object' && !Array.isArray(variables) ? Object.entries(variables) : [['', undefined]];
  if (t.variablesJson.length > 4096 || !values.every(([k, v]) => /^[1-9][0-9]?$/.test(k) && typeof v === 'string'))
    throw new RoutingError('INVALID_ARGUMENT', 'whatsapp_template.variables_json must be an object from "1", "2", ... to text, at most 4,096 characters');
  return { 'whatsapp-content-sid': t.contentSid, 'whatsapp-content-variables': t.variablesJson || '{}', 'whatsapp-template': t.name.slice(0, 64) };
}

const startedBySame = (conv: ConversationRecord, starter: Starter): boolean =>
  'application' in starter ? conv.startedBy === starter.application : conv.outreach?.by === starter.staffId;

/**
 * Opens the conversation and sends its first message. The same id again from the same starter is
 * that conversation, and nothing is sent again; an SMS in the configured quiet hours is refused.
 */
export function startConversation(core: Core, classifier: Classifier, s: StartRequest): { conv: ConversationRecord; messageId: string; created: boolean } {
  const known = core.conversations.get(s.conversationId);
  if (known) {
    if (!startedBySame(known, s.starter)) throw new RoutingError('FAILED_PRECONDITION', `conversation ${s.conversationId} already exists`);
    const first = known.apiRequests?.[0]?.split(' ')[1] ?? '';
    return { conv: known, messageId: first, created: false };
  }
  const template = checkChannel(s);
  checkText(s.text, 'text', s.channel === 'email' ? 20_000 : 1600);
  if (s.subject.length > 500) throw new RoutingError('INVALID_ARGUMENT', 'subject is longer than 500 characters');
  const now = core.clock.now();
  const quiet = core.policy.smsQuietHours;
  if (s.channel === 'sms' && quiet && inQuietHours(quiet, now)) throw new RoutingError('FAILED_PRECONDITION', quietHoursText(quiet));
  const conv = openRecord(opening(s), classifier.classify({ subject: s.subject, text: s.text, language: '', channel: s.channel, customerFlags: [] }), now);
  core.conversations.set(conv.id, conv);
  const author = 'application' in s.starter ? authorOf(s.starter.application) : s.starter.staffId;
  const message = core.out.outbound(conv, OutboundKind.OUTBOUND_KIND_REPLY, s.text, author, s.subject);
  // The template rides on the first message only: later replies in the window are free-form.
  Object.assign(message.channelMetadata, template);
  const [code, what] =
    'application' in s.starter
      ? ['api.started', `${author} started a ${s.channel} conversation`]
      : s.starter.noticeId
        ? ['notice.sent', `${author} sent notice ${s.starter.noticeId} by ${s.channel}`]
        : ['outreach.started', `${author} started a ${s.channel} conversation${s.whatsappTemplate ? ` with the template ${s.whatsappTemplate.name}` : ''}`];
  core.out.event(conv, reason(code, what), {
    $case: 'replied',
    replied: { agentId: author, outboundMessageId: message.messageId, text: s.text, attachments: [] },
  });
  remember(conv, 'start', message.messageId);
  return { conv, messageId: message.messageId, created: true };
}

function opening(s: StartRequest): Parameters<typeof openRecord>[0] {
  const person = 'staffId' in s.starter ? s.starter : undefined;
  return {
    id: s.conversationId,
    channel: s.channel,
    customerKey: s.customerId,
    customerId: s.customerId,
    customerName: '',
    flags: [],
    accountManagerId: '',
    recipient: s.recipient,
    reference: s.reference,
    subject: s.subject,
    language: '',
    channelMetadata: person
      ? { 'initiated-by': person.noticeId ? 'notice' : 'desk', ...(person.noticeId ? { notice: person.noticeId } : {}) }
      : { application: 'application' in s.starter ? s.starter.application : '', 'initiated-by': 'api' },
    state: 'awaiting-customer',
    points: 0,
    // Nothing to answer yet: the target starts with the customer's first message.
    slaState: 'stopped',
    seq: 0,
    contactIds: [],
    startedBy: 'application' in s.starter ? s.starter.application : undefined,
    outreach: person ? { by: person.staffId, tier: person.tier, skill: person.skill, ...(person.noticeId ? { noticeId: person.noticeId } : {}) } : undefined,
  };
}
