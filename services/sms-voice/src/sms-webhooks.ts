// Twilio's SMS webhooks, once signed: an inbound SMS becomes a contact of its number pair's
// conversation (carrier keywords honoured first) unless it answers the conversation's survey,
// a carrier's status report an event.
import { keywordOf } from './sms';
import { smsSurveyAnswer } from './survey-answers';
import { carrierReported, FINAL_SMS_STATUSES, keywordReply, MAX_INBOUND_BODY, smsContact, surveyReply } from './texts';
import type { Route } from './webhook-routes';

const sms: Route = async (ctx, p) => {
  const sid = ctx.required(p, 'MessageSid');
  const customer = ctx.phone(p.From, 'From');
  const company = ctx.phone(p.To, 'To');
  const body = (p.Body ?? '').slice(0, MAX_INBOUND_BODY);
  const keyword = keywordOf(body);
  const reply = keywordReply(keyword);
  if (keyword === 'stop') await ctx.store.setOptOut(customer, true);
  if (keyword === 'start') await ctx.store.setOptOut(customer, false);
  if (keyword === 'stop' || keyword === 'start') return reply; // Twilio sends the carrier confirmation itself.

  const survey = await smsSurveyAnswer(ctx, { sid, customer, company, body });
  if (survey !== 'not-an-answer') return surveyReply(survey);

  const at = ctx.now();
  const thread = await ctx.store.claimSms(sid, customer, company, at, ctx.config.SMS_CONVERSATION_WINDOW_MS);
  await ctx.contacts.deliver(smsContact({ sid, customer, company, body }, p, thread, at));
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
