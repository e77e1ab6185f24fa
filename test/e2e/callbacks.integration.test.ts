// Callbacks that call back, across routing and sms-voice over real Kafka, the store and the
// Twilio stand-in (the real twilio client places each call): the caller asks for a callback and
// leaves; the callback keeps their place; a closed queue holds it until it opens; when an agent
// accepts, the customer is dialled and the agent bridged; unanswered attempts are retried at the
// interval, and after the last one the customer gets an SMS and the conversation a record.
import { randomBytes } from 'node:crypto';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import twilio from 'twilio';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { topics } from '#libs/kafka';
import { CallbackOutcome, Channel, IdentityKind, OutboundKind, OutboundMessage, Presence, Tier } from '#libs/proto';
import { recordTopics, testContext, testToken, uniqueId, waitFor } from '#libs/testing';
import { callbackLine } from '../../services/agent-desk/src/callback-views';
import { startRouting } from '../../services/routing/src/service';
import { answerOffers, client, configFor, useRoutingHarness } from '../../services/routing/test/helpers';
import { CALLBACK_GREETING, CALLBACK_STATUS_PATH } from '../../services/sms-voice/src/callbacks';
import { CALL_CONTROL_PATH } from '../../services/sms-voice/src/control-edge';
import { type SmsVoiceStandIn, startSmsVoiceStandIn, whileUnavailable } from './sms-voice-stand-in';

const COMPANY = '+14155550100';
const RETRY_MS = 2000;
const H = 3_600_000;
const xml = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@', parseTagValue: false });
const h = useRoutingHarness();
const ctxs = ['routing', 'sms-voice'].map((n) => testContext(`e2e-callbacks-${n}`));
// Routing's clock: Monday 5 January 2026, 21:00 UTC, 22:00 in Paris (the voice queue is closed), moved on by the test.
let offset = Date.UTC(2026, 0, 5, 21, 0) - Date.now();
const clock = { now: () => Date.now() + offset };
let twilioSide: SmsVoiceStandIn;
let recorder: Awaited<ReturnType<typeof recordTopics>>;
let routing: Awaited<ReturnType<typeof startRouting>>;

beforeAll(async () => {
  recorder = await recordTopics([topics.conversationEvents.name]);
  // 09:00-21:00 in Paris: 08:00-20:00 UTC in January. Callback times are said in Paris time.
  const daily = Object.fromEntries(['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'].map((d) => [d, ['09:00-21:00']]));
  routing = await startRouting(
    ctxs[0]!,
    configFor(h.database('routing_callbacks'), uniqueId('routing-callbacks'), {
      ROUTING_CALENDARS_JSON: JSON.stringify({ 'tier1/general/voice': { zone: 'Europe/Paris', hours: daily } }),
      ROUTING_CALLBACK_RETRY_INTERVAL_MS: String(RETRY_MS),
      ROUTING_CALLBACK_MAX_ATTEMPTS: '3',
    }),
    { clock },
  );
  await waitFor(() => routing.ownership.isActive, 30_000, 'routing to take its partitions');
  twilioSide = await startSmsVoiceStandIn(ctxs[1]!, 'callbacks', routing.grpcPort);
}, 60_000);

afterAll(async () => {
  for (const c of ctxs) await c.stop();
  await recorder?.close();
  await twilioSide?.stop();
});

/**
 * The conversation in routing's engine; undefined while the instance stands down (a loaded
 * machine can cost it its group membership for a moment; it takes the partitions back).
 */
const stateOf = (id: string) => (routing.ownership.isActive ? routing.engine.conversationState(id) : undefined);

/** A webhook signed as Twilio signs it, for PUBLIC_BASE_URL + the route; its TwiML parsed. */
async function webhook(route: string, params: Record<string, string>): Promise<Record<string, unknown>> {
  const signed = `http://127.0.0.1:1${route}`;
  const res = await fetch(`${twilioSide.webhookBase}${route}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': twilio.getExpectedTwilioSignature(twilioSide.token, signed, params) },
    body: new URLSearchParams(params),
  });
  const body = await res.text();
  expect(res.status, body).toBe(200);
  expect(XMLValidator.validate(body)).toBe(true);
  return (xml.parse(body) as { Response: Record<string, unknown> }).Response;
}

/** A call comes in and is queued; the caller presses 1 and leaves. Returns the conversation and what they heard. */
async function callAndAskCallback(caller: string): Promise<{ conversationId: string; said: string }> {
  const callSid = `CA${randomBytes(16).toString('hex')}`;
  await webhook('/twilio/voice', { CallSid: callSid, AccountSid: twilioSide.accountSid, From: caller, To: COMPANY });
  const conversationId = `conv-${callSid}`;
  await waitFor(() => stateOf(conversationId)?.state === 'queued', 20_000, 'the call queued in routing');
  // The caller hears the wait (routing's estimate once its gRPC channel is up) before pressing 1.
  await waitFor(
    async () => {
      const r = await webhook('/twilio/voice/wait', { CallSid: callSid, AccountSid: twilioSide.accountSid, QueuePosition: '1' });
      return Array.isArray(r.Say) || String(r.Say).includes('The expected wait is');
    },
    20_000,
    'the wait message',
  );
  const promised = await webhook('/twilio/voice/callback', { CallSid: callSid, AccountSid: twilioSide.accountSid, Digits: '1' });
  expect(promised).toHaveProperty('Leave');
  expect(await webhook('/twilio/voice/queue-result', { CallSid: callSid, AccountSid: twilioSide.accountSid, QueueResult: 'leave', QueueTime: '5' })).toEqual(
    '',
  );
  await webhook('/twilio/voice/status', { CallSid: callSid, AccountSid: twilioSide.accountSid, CallStatus: 'completed', CallDuration: '20' });
  await waitFor(() => stateOf(conversationId)?.callback, 20_000, 'the callback in routing');
  return { conversationId, said: String(promised.Say) };
}

/** A new agent on the voice queue, accepting offers of this conversation only (other tests' calls are declined). */
async function agentFor(conversationId: string) {
  const id = uniqueId('ann').replace(/[^A-Za-z0-9_.@-]/g, '');
  const supervisor = await client(routing.grpcPort, 'sup', 'supervisor');
  await whileUnavailable(() =>
    supervisor.call(supervisor.raw.registerAgent, {
      agentId: id,
      name: 'Ann',
      tier: Tier.TIER_FRONT_OFFICE,
      skills: [{ name: 'general', level: 3 }],
      languages: ['en'],
      capacity: [{ channel: Channel.CHANNEL_VOICE, capacity: 1, active: 0 }],
      totalCapacity: 1,
    }),
  );
  supervisor.close();
  const desk = await client(routing.grpcPort, id, 'agent');
  desk.watch();
  await whileUnavailable(() => desk.call(desk.raw.setPresence, { agentId: '', presence: Presence.PRESENCE_AVAILABLE }));
  const offers = answerOffers(desk, (c) => (c === conversationId ? 'accept' : 'decline'));
  // A stream ended by a stand-down is opened again, as the desk does.
  let errors = 0;
  const rewatch = setInterval(() => {
    if (desk.streamErrors.length === errors) return;
    errors = desk.streamErrors.length;
    desk.watch();
  }, 500);
  return {
    id,
    offers,
    /** What the agent's desk stream received. */
    updates: desk.updates,
    async leave() {
      clearInterval(rewatch);
      offers.stop();
      await whileUnavailable(() => desk.call(desk.raw.setPresence, { agentId: '', presence: Presence.PRESENCE_AWAY }));
      desk.close();
    },
  };
}

const callsTo = (number: string) => twilioSide.standIn.items.filter((i) => i.kind === 'call' && i.to === number);
const progressOf = (conversationId: string) =>
  recorder
    .values(topics.conversationEvents, ctxs[0]!)
    .flatMap((e) => (e.conversationId === conversationId && e.step?.$case === 'callbackProgress' ? [e.step.callbackProgress] : []));
/** Moves routing's clock to Tuesday 10:00 (open), once. */
function openTheQueue(): void {
  if (clock.now() < Date.UTC(2026, 0, 6, 8, 0)) offset += 13 * H;
}
const caller = () => `+1415556${String(1000 + Math.floor(Math.random() * 9000))}`;

/** Twilio reports the outbound call's status; waits for the next call when another attempt is expected. */
async function report(number: string, attempt: number, status: string): Promise<void> {
  const call = await waitFor(() => callsTo(number)[attempt - 1], 30_000, `callback attempt ${attempt}`);
  const callback = new URL(call.statusCallback!);
  expect(callback.pathname).toBe(CALLBACK_STATUS_PATH);
  expect(callback.searchParams.get('attempt')).toBe(String(attempt));
  await webhook(callback.pathname + callback.search, { CallSid: call.sid, AccountSid: twilioSide.accountSid, CallStatus: status, To: number, From: COMPANY });
}

/** The desk's hold control, as the signed-in agent sends it to sms-voice. */
async function holdControl(agentId: string, conversationId: string): Promise<{ status: number; body: unknown }> {
  const token = await testToken({ id: agentId, role: 'agent' }, 'sms-voice');
  const res = await fetch(`${twilioSide.webhookBase}${CALL_CONTROL_PATH}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ conversationId, action: 'hold' }),
  });
  return { status: res.status, body: await res.json() };
}

/** What the stand-in texted to `number`. */
const textsTo = (number: string) => twilioSide.standIn.items.filter((i) => i.kind === 'sms' && i.to === number);

/**
 * Ann could not be dialled in: the failure is an event on the conversation, her desk is told why
 * she lost it, the conversation waits first in the queue, and Bob, a new agent, is dialled into
 * its conference; Ann is never offered it again. Returns Bob, to leave.
 */
async function givenToAnotherAgent(conversationId: string, ann: Awaited<ReturnType<typeof agentFor>>, callbackAttempt: number) {
  const failed = await waitFor(
    // Published by this test's sms-voice.
    () => recorder.values(topics.conversationEvents, ctxs[1]!).find((e) => e.conversationId === conversationId && e.step?.$case === 'agentDialInFailed'),
    20_000,
    'the failed dial-in recorded',
  );
  expect(failed.step).toMatchObject({ agentDialInFailed: { agentId: ann.id, code: '21215', callbackAttempt } });
  const revoked = await waitFor(
    () => ann.updates.find((u) => u.update?.$case === 'revoked' && u.update.revoked.conversationId === conversationId),
    20_000,
    "Ann's offer withdrawn",
  );
  expect(revoked.update).toMatchObject({ revoked: { reason: { code: 'call.agent_unreachable' } } });
  await waitFor(() => (stateOf(conversationId)?.state === 'queued' ? true : undefined), 20_000, 'the call back in the queue');
  expect(stateOf(conversationId)!.unreachableAgents).toEqual([ann.id]);
  const bob = await agentFor(conversationId);
  const bobLeg = await waitFor(
    () => twilioSide.standIn.participantsOf(conversationId).find((p) => p.label === 'agent' && p.to === `client:${bob.id}`),
    30_000,
    'Bob dialled in',
  );
  expect(bobLeg).toMatchObject({ startConferenceOnEnter: true });
  expect(ann.updates.filter((u) => u.update?.$case === 'offer' && u.update.offer.conversationId === conversationId)).toHaveLength(1);
  return bob;
}

describe('callbacks that call back', () => {
  it('holds a callback asked while closed until the queue opens, then dials the customer and bridges the agent', { timeout: 120_000 }, async () => {
    const number = caller();
    const { conversationId, said } = await callAndAskCallback(number);
    // Closed until 08:00 tomorrow: the promise counts the closed time.
    expect(said).toMatch(/^Thank you\. We will call you back once we are open, in about 1[01] hours\. Goodbye\.$/);
    const requested = await waitFor(() => progressOf(conversationId)[0], 20_000, 'the callback request recorded');
    expect(requested).toMatchObject({ outcome: CallbackOutcome.CALLBACK_OUTCOME_REQUESTED });
    expect(requested.promisedWaitMs).toBeGreaterThan(11 * H - 60_000);
    // The expected time also goes by SMS, from the number the customer called.
    // Other tests' routing instances (real clocks) may book the same request and text their own time.
    // Said in the queue's zone (Paris), naming it.
    const bookedText = /^Thank you for your call\. We will call you back by Tuesday 6 January 2026, 0[89]:\d\d Europe\/Paris, keeping your place/;
    const booked = await waitFor(() => textsTo(number).find((t) => bookedText.test(t.body)), 30_000, 'the booking SMS');
    expect(booked).toMatchObject({ from: COMPANY });
    const agent = await agentFor(conversationId);
    try {
      await new Promise((r) => setTimeout(r, 3000));
      expect(stateOf(conversationId)!.state).toBe('queued');
      expect(callsTo(number)).toHaveLength(0);
      // Tuesday 10:00: open. The callback is offered, accepted, and the customer dialled.
      openTheQueue();
      const call = await waitFor(() => callsTo(number)[0], 30_000, 'the customer dialled');
      expect(call.from).toBe(COMPANY);
      // The desk's offer and the history say the times in Paris time too.
      const offered = agent.updates.flatMap((u) =>
        u.update?.$case === 'offer' && u.update.offer.conversationId === conversationId ? [u.update.offer] : [],
      )[0];
      expect(offered?.callback?.zone).toBe('Europe/Paris');
      expect(callbackLine(offered?.callback)).toMatch(/ — requested at 22:\d\d Europe\/Paris, promised by 0[89]:\d\d Europe\/Paris$/);
      const history = recorder
        .values(topics.conversationEvents, ctxs[0]!)
        .find((e) => e.conversationId === conversationId && e.reason?.code === 'callback.requested');
      expect(history?.reason?.text).toMatch(/^callback requested at 22:\d\d Europe\/Paris, promised by 0[89]:\d\d Europe\/Paris;/);
      // The customer joins the conversation's conference as an inbound caller does.
      const twiml = (xml.parse(call.body) as { Response: { Say: string; Dial: { Conference: Record<string, string> } } }).Response;
      expect(twiml.Say).toBe(CALLBACK_GREETING);
      expect(twiml.Dial.Conference).toMatchObject({ '#text': conversationId, '@startConferenceOnEnter': 'false', '@endConferenceOnExit': 'true' });
      expect(twiml.Dial.Conference['@waitUrl']).toMatch(/^https?:\/\//);
      expect(twilioSide.standIn.participantsOf(conversationId).filter((p) => p.label === 'agent')).toHaveLength(0);
      await report(number, 1, 'in-progress');
      // Picked up: the agent is dialled into that conference, on their softphone.
      const agentLeg = await waitFor(() => twilioSide.standIn.participantsOf(conversationId).find((p) => p.label === 'agent'), 20_000, 'the agent dialled in');
      expect(agentLeg).toMatchObject({ to: `client:${agent.id}`, startConferenceOnEnter: true, endConferenceOnExit: false });
      // A Twilio retry of the status dials nobody again.
      await report(number, 1, 'in-progress');
      expect(twilioSide.standIn.participantsOf(conversationId).filter((p) => p.label === 'agent')).toHaveLength(1);
      // The agent's call controls work on the callback: hold puts the customer on the hold music.
      const held = await holdControl(agent.id, conversationId);
      expect(held.status, JSON.stringify(held.body)).toBe(200);
      expect(twilioSide.standIn.participantsOf(conversationId).find((p) => p.callSid === call.sid)).toMatchObject({ hold: true });
      const answered = await waitFor(
        () => progressOf(conversationId).find((p) => p.outcome === CallbackOutcome.CALLBACK_OUTCOME_ANSWERED),
        20_000,
        'the callback answered',
      );
      // Measured as a wait estimate is: the promise against the real wait (the clock moved 13 h).
      expect(answered.waitedMs).toBeGreaterThan(13 * H);
      expect(answered.promisedWaitMs).toBe(requested.promisedWaitMs);
      expect(stateOf(conversationId)).toMatchObject({
        state: 'assigned',
        agentId: agent.id,
        callback: { state: 'connected', attempts: 1 },
      });
    } finally {
      await agent.leave();
    }
  });

  it('gives an answered callback to another agent when the first cannot be dialled in, without calling the customer again', { timeout: 120_000 }, async () => {
    openTheQueue();
    const number = caller();
    const { conversationId } = await callAndAskCallback(number);
    const ann = await agentFor(conversationId);
    // Twilio refuses Ann's softphone address (as for an address outside the account's permissions).
    twilioSide.standIn.refusedAddresses.add(`client:${ann.id}`);
    let bob: Awaited<ReturnType<typeof agentFor>> | undefined;
    try {
      await report(number, 1, 'in-progress');
      bob = await givenToAnotherAgent(conversationId, ann, 1);
      expect(callsTo(number)).toHaveLength(1);
      expect(stateOf(conversationId)).toMatchObject({ state: 'assigned', agentId: bob.id, callback: { state: 'connected', attempts: 1 } });
    } finally {
      await ann.leave();
      await bob?.leave();
    }
  });

  it('gives an inbound call to another agent when the first cannot be dialled into its conference', { timeout: 120_000 }, async () => {
    openTheQueue();
    const callSid = `CA${randomBytes(16).toString('hex')}`;
    await webhook('/twilio/voice', { CallSid: callSid, AccountSid: twilioSide.accountSid, From: caller(), To: COMPANY });
    const conversationId = `conv-${callSid}`;
    await waitFor(() => stateOf(conversationId)?.state === 'queued', 20_000, 'the call queued in routing');
    const ann = await agentFor(conversationId);
    twilioSide.standIn.refusedAddresses.add(`client:${ann.id}`);
    let bob: Awaited<ReturnType<typeof agentFor>> | undefined;
    try {
      bob = await givenToAnotherAgent(conversationId, ann, 0);
      expect(stateOf(conversationId)).toMatchObject({ state: 'assigned', agentId: bob.id });
    } finally {
      await ann.leave();
      await bob?.leave();
    }
  });

  it('retries a callback not answered twice at the interval, and connects on the third attempt', { timeout: 120_000 }, async () => {
    openTheQueue();
    const number = caller();
    const { conversationId, said } = await callAndAskCallback(number);
    expect(said).toMatch(/^Thank you\. We will call you back in .+, keeping your place in the queue\. Goodbye\.$/);
    const agent = await agentFor(conversationId);
    try {
      await report(number, 1, 'no-answer');
      await report(number, 2, 'busy');
      await report(number, 3, 'completed');
      await waitFor(
        () => progressOf(conversationId).some((p) => p.outcome === CallbackOutcome.CALLBACK_OUTCOME_ANSWERED),
        20_000,
        'the third attempt answered',
      );
      expect(stateOf(conversationId)!.callback!.state).toBe('connected');
      const outcomes = progressOf(conversationId).map((p) => [p.outcome, p.attempt]);
      expect(outcomes).toEqual([
        [CallbackOutcome.CALLBACK_OUTCOME_REQUESTED, 0],
        [CallbackOutcome.CALLBACK_OUTCOME_RETRY_SCHEDULED, 1],
        [CallbackOutcome.CALLBACK_OUTCOME_RETRY_SCHEDULED, 2],
        [CallbackOutcome.CALLBACK_OUTCOME_ANSWERED, 3],
      ]);
      const retries = progressOf(conversationId).filter((p) => p.outcome === CallbackOutcome.CALLBACK_OUTCOME_RETRY_SCHEDULED);
      const calls = callsTo(number);
      expect(calls).toHaveLength(3);
      // Each retry waited out the interval before the customer was dialled again.
      for (const [i, retry] of retries.entries()) expect(calls[i + 1]!.at.getTime() + offset).toBeGreaterThanOrEqual(retry.nextAttemptAt!.getTime() - 50);
    } finally {
      await agent.leave();
    }
  });

  it('gives up after the last unanswered attempt: an SMS to the customer and a record on the conversation', { timeout: 120_000 }, async () => {
    openTheQueue();
    const number = caller();
    const { conversationId } = await callAndAskCallback(number);
    const agent = await agentFor(conversationId);
    try {
      for (let attempt = 1; attempt <= 3; attempt++) await report(number, attempt, 'no-answer');
      const sms = await waitFor(() => textsTo(number).find((i) => i.body.includes('We tried')), 30_000, 'the SMS to the customer');
      expect(sms).toMatchObject({ from: COMPANY, body: expect.stringContaining('We tried to call you back 3 times but could not reach you.') });
      const gaveUp = await waitFor(
        () => progressOf(conversationId).find((p) => p.outcome === CallbackOutcome.CALLBACK_OUTCOME_GAVE_UP),
        20_000,
        'the record on the conversation',
      );
      expect(gaveUp.attempt).toBe(3);
      expect(callsTo(number)).toHaveLength(3);
      // A late report of the last call changes nothing: no fourth attempt.
      await report(number, 3, 'no-answer');
      await new Promise((r) => setTimeout(r, RETRY_MS + 500));
      expect(callsTo(number)).toHaveLength(3);
    } finally {
      await agent.leave();
    }
  });

  it('dials nothing for a callback number that is not E.164, and says why', { timeout: 60_000 }, async () => {
    const conversationId = uniqueId('conv-bad-number');
    const message = OutboundMessage.fromPartial({
      messageId: uniqueId('callback'),
      conversationId,
      channel: Channel.CHANNEL_VOICE,
      kind: OutboundKind.OUTBOUND_KIND_CALLBACK,
      recipient: { kind: IdentityKind.IDENTITY_KIND_PHONE, value: '0612345678' },
      agentId: 'ann',
      channelMetadata: { 'callback-attempt': '1' },
    });
    await h.kafka.producer.publish(topics.outbound, conversationId, message, { id: message.messageId });
    const events = () => recorder.values(topics.conversationEvents, ctxs[1]!).filter((e) => e.conversationId === conversationId);
    const failed = await waitFor(() => events().find((e) => e.step?.$case === 'deliveryReported'), 30_000, 'the failed delivery');
    expect(failed.step).toMatchObject({ deliveryReported: { delivered: false, errorCode: 'INVALID_NUMBER', permanent: true } });
    await waitFor(() => events().find((e) => e.step?.$case === 'callbackProgress'), 20_000, 'the failed attempt');
    expect(twilioSide.standIn.items.filter((i) => i.kind === 'call' && i.to === '0612345678')).toHaveLength(0);
  });
});
