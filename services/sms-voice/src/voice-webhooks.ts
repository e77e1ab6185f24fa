// Twilio's voice webhooks, once signed: a call is recorded and queued (or, with Kafka down, a
// callback promised), a queued caller hears the wait and may ask for a callback, and the end
// of the call or of its wait becomes an event; after an agent resolved it, the caller may rate
// it on the keypad.
import {
  abandonedInQueue,
  answerCall,
  CALL_ENDED_STATUSES,
  callbackRequest,
  callConversationId,
  callEnded,
  incomingCall,
  keepHolding,
  nothingToSay,
  SURVEY_DIGITS_PATH,
  surveyAnswered,
  whileWaiting,
} from './calls';
import { attemptOutcome, attemptReported, CALLBACK_STATUS_PATH, callbackOfStatusUrl, callbackPromisedIn, customerPickedUp } from './callbacks';
import { leaveForVoicemail, recordVoicemail, voicemailContact, voicemailKept, whileClosed } from './closed-calls';
import { callRecorded, deletion, RECORDING_PATH, type Recording } from './recordings';
import { answerSurvey } from './survey-answers';
import { InvalidRecordingError, UnknownCallError } from './webhook-errors';
import type { WebhookParams } from './webhook-form';
import type { Route } from './webhook-routes';

const incoming: Route = async (ctx, p) => {
  const sid = ctx.required(p, 'CallSid');
  const customer = ctx.phone(p.From, 'From');
  const company = ctx.phone(p.To, 'To');
  const recorded = await ctx.store.recordCall({ _id: sid, conversationId: callConversationId(sid), customer, company, startedAt: ctx.now() });
  // A call Kafka cannot take now cannot be queued either: the caller is told the lines are
  // busy, and a callback request is spooled, to be routed when the broker is back.
  const { contact, whenSpooled } = incomingCall(sid, { conversationId: recorded.conversationId, customer, company }, recorded.startedAt);
  return answerCall(await ctx.contacts.deliver(contact, whenSpooled), ctx.base);
};

const wait: Route = async (ctx, p) => {
  const call = await ctx.store.callOf(ctx.required(p, 'CallSid'));
  // Routing orders its queue by priority, so its position and estimate are the honest ones;
  // Twilio's own first-in-first-out position and the SLA target are the fallback.
  const fromRouting = call ? await ctx.waitEstimates(call.conversationId) : undefined;
  if (fromRouting?.closedNotice) return whileClosed(fromRouting.closedNotice, fromRouting.hours ?? '', ctx.base);
  const position = Math.max(1, fromRouting?.position || Number(p.QueuePosition ?? 1) || 1);
  const estimateMs = fromRouting ? fromRouting.estimatedWaitMs : ctx.config.VOICE_SLA_MS * position;
  return whileWaiting(position, estimateMs, estimateMs > ctx.config.CALLBACK_OFFER_AFTER_MS, ctx.base);
};

const callback: Route = async (ctx, p) => {
  const sid = ctx.required(p, 'CallSid');
  if (p.Digits !== '1') return keepHolding();
  const call = await ctx.store.callOf(sid);
  if (!call) throw new UnknownCallError(sid);
  await ctx.contacts.deliver(callbackRequest(sid, call, ctx.now()));
  // Routing now holds the callback at the caller's place: its estimate is the time to expect.
  return callbackPromisedIn(await ctx.waitEstimates(call.conversationId));
};

/** The outbound call of a callback: its outcome, once known, goes to routing (retry, or give up). */
const callbackStatus: Route = async (ctx, p, query) => {
  const sid = ctx.required(p, 'CallSid');
  const { conversationId, attempt } = callbackOfStatusUrl(query);
  const status = p.CallStatus ?? '';
  const outcome = attemptOutcome(status);
  if (outcome !== undefined) await ctx.contacts.deliverEvent(attemptReported(sid, conversationId, attempt, outcome, status, ctx.now()));
  if (customerPickedUp(status)) await ctx.bridgeCallback(sid);
  else if (CALL_ENDED_STATUSES.includes(status) && (await ctx.store.callOf(sid))) {
    await ctx.store.endCall(sid, ctx.now());
    // Only an answered callback was a call of the conversation; unanswered attempts are told by their progress.
    if (status === 'completed') await ctx.contacts.deliverEvent(callEnded(sid, conversationId, status, Number(p.CallDuration ?? 0) || 0, ctx.now()));
  }
  return nothingToSay();
};

/** Outside opening hours: 1 a callback request (as while waiting), 2 a voicemail. */
const closedChoice: Route = async (ctx, p) => {
  const sid = ctx.required(p, 'CallSid');
  if (p.Digits === '1') return callback(ctx, p, new URLSearchParams());
  if (p.Digits !== '2') return keepHolding();
  if (!(await ctx.store.callOf(sid))) throw new UnknownCallError(sid);
  await ctx.store.chooseVoicemail(sid);
  return leaveForVoicemail();
};

const voicemail: Route = async (ctx, p) => {
  const sid = ctx.required(p, 'CallSid');
  const call = await ctx.store.callOf(sid);
  if (!call) throw new UnknownCallError(sid);
  await ctx.contacts.deliver(voicemailContact(sid, call, recordingOf(p, p.RecordingSid ?? ''), ctx.now()));
  return voicemailKept();
};

/** The recording Twilio reports (a voicemail's, or a recorded conference's). */
function recordingOf(p: WebhookParams, sid: string): Recording {
  const url = p.RecordingUrl ?? '';
  if (!/^https?:\/\/\S{1,500}$/.test(url)) throw new InvalidRecordingError(url);
  return { url, sid, seconds: Number(p.RecordingDuration ?? 0) || 0 };
}

/**
 * A recorded conference's recording is ready: an event on the call's conversation. Twilio also
 * reports recordings that failed or stayed silent (`absent`): nothing was kept, nothing to list.
 */
const recordingStatus: Route = async (ctx, p, query) => {
  const callSid = ctx.required({ CallSid: query.get('CallSid') ?? '' }, 'CallSid');
  const recordingSid = ctx.required(p, 'RecordingSid');
  const call = await ctx.store.callOf(callSid);
  if (!call) throw new UnknownCallError(callSid);
  if (p.RecordingStatus !== 'completed') return nothingToSay();
  const recording = recordingOf(p, recordingSid);
  const now = ctx.now();
  // Kept before it is listed: no recording on a conversation escapes its retention.
  await ctx.store.keepRecording({ _id: recordingSid, conversationId: call.conversationId, callSid, recordedAt: now, ...deletion(ctx.config, now) });
  await ctx.contacts.deliverEvent(callRecorded(call.conversationId, callSid, recording, now));
  return nothingToSay();
};

const queueResult: Route = async (ctx, p) => {
  const sid = ctx.required(p, 'CallSid');
  const call = await ctx.store.callOf(sid);
  if (call?.voicemail && p.QueueResult === 'leave') return recordVoicemail(ctx.base);
  if (call && p.QueueResult === 'hangup') await ctx.contacts.deliverEvent(abandonedInQueue(sid, call.conversationId, Number(p.QueueTime ?? 0) || 0, ctx.now()));
  return nothingToSay();
};

/** The digit a caller pressed for the survey asked at the end of a resolved call. */
const surveyDigits: Route = async (ctx, p) => {
  const sid = ctx.required(p, 'CallSid');
  const call = await ctx.store.callOf(sid);
  if (!call) throw new UnknownCallError(sid);
  return surveyAnswered(await answerSurvey(ctx, call.conversationId, (p.Digits ?? '').slice(0, 1), sid, 'keypad'));
};

const callStatus: Route = async (ctx, p) => {
  const sid = ctx.required(p, 'CallSid');
  const call = await ctx.store.callOf(sid);
  const status = p.CallStatus ?? '';
  if (call && CALL_ENDED_STATUSES.includes(status)) {
    await ctx.store.endCall(sid, ctx.now());
    await ctx.contacts.deliverEvent(callEnded(sid, call.conversationId, status, Number(p.CallDuration ?? 0) || 0, ctx.now()));
  }
  return nothingToSay();
};

export const voiceRoutes: Record<string, Route> = {
  '/twilio/voice': incoming,
  '/twilio/voice/wait': wait,
  '/twilio/voice/callback': callback,
  '/twilio/voice/closed-choice': closedChoice,
  '/twilio/voice/voicemail': voicemail,
  '/twilio/voice/queue-result': queueResult,
  '/twilio/voice/status': callStatus,
  [CALLBACK_STATUS_PATH]: callbackStatus,
  [SURVEY_DIGITS_PATH]: surveyDigits,
  [RECORDING_PATH]: recordingStatus,
};
