// Twilio's Messaging webhooks, once signed: an inbound SMS or WhatsApp message becomes a contact
// of its address pair's conversation (opt-out keywords honoured first) unless it answers the
// conversation's survey, a carrier's status report an event.
import { Channel } from '#libs/proto';
import { keywordOf } from './sms';
import { smsSurveyAnswer } from './survey-answers';
import { carrierReported, FINAL_SMS_STATUSES, keywordReply, MAX_INBOUND_BODY, smsContact, surveyReply } from './texts';
import type { Route, RouteContext } from './webhook-routes';
import { bareNumber, isWhatsAppAddress, messagingAddress } from './whatsapp';
import { MixedChannelError } from './webhook-errors';
import type { WebhookParams } from './webhook-form';

/** The channel and both parties of a message, in E.164 and as addresses on that channel. */
function partiesOf(ctx: RouteContext, p: WebhookParams) {
  const whatsapp = isWhatsAppAddress(p.From);
  if (whatsapp !== isWhatsAppAddress(p.To)) throw new MixedChannelError();
  const channel = whatsapp ? Channel.CHANNEL_WHATSAPP : Channel.CHANNEL_SMS;
  const customer = ctx.phone(bareNumber(p.From), 'From');
  const company = ctx.phone(bareNumber(p.To), 'To');
  return { channel, customer, company, customerAddress: messagingAddress(channel, customer), companyAddress: messagingAddress(channel, company) };
}

const sms: Route = async (ctx, p) => {
  const sid = ctx.required(p, 'MessageSid');
  const { channel, customer, company, customerAddress, companyAddress } = partiesOf(ctx, p);
  const body = (p.Body ?? '').slice(0, MAX_INBOUND_BODY);
  const keyword = keywordOf(body);
  const reply = keywordReply(keyword, channel);
  if (keyword === 'stop') await ctx.store.setOptOut(customerAddress, true);
  if (keyword === 'start') await ctx.store.setOptOut(customerAddress, false);
  if (keyword === 'stop' || keyword === 'start') return reply;

  const survey = await smsSurveyAnswer(ctx, { sid, customer: customerAddress, company: companyAddress, body });
  if (survey !== 'not-an-answer') return surveyReply(survey);

  const at = ctx.now();
  const [thread] = await Promise.all([
    ctx.store.claimSms(sid, customerAddress, companyAddress, at, ctx.config.SMS_CONVERSATION_WINDOW_MS),
    channel === Channel.CHANNEL_WHATSAPP ? ctx.store.customerWrote(customerAddress, companyAddress, at) : undefined,
  ]);
  await ctx.contacts.deliver(smsContact({ sid, channel, customer, company, body }, p, thread, at));
  return reply;
};

const smsStatus: Route = async (ctx, p) => {
  const sid = ctx.required(p, 'MessageSid');
  const status = p.MessageStatus ?? '';
  const conversationId = await ctx.store.conversationOfSid(sid);
  if (conversationId && FINAL_SMS_STATUSES.includes(status))
    await ctx.contacts.deliverEvent(carrierReported(sid, conversationId, status, p.ErrorCode ?? '', ctx.now()));
  return '';
};

export const smsRoutes: Record<string, Route> = { '/twilio/sms': sms, '/twilio/sms/status': smsStatus };
