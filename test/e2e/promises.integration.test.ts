// Promises on long cases, across routing and sms-voice over real Kafka, the store and the Twilio
// stand-in (the real twilio client sends each SMS): the agent holding an SMS conversation sets a
// promise and the customer gets it as a status SMS; a date in the past is refused and nothing is
// sent; the customer texts "status" and gets the current promise; before the deadline the owner
// is warned on their desk stream; when it passes, the customer is told by SMS.
import { randomBytes } from 'node:crypto';
import twilio from 'twilio';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServiceError } from '@grpc/grpc-js';
import { topics } from '#libs/kafka';
import { Channel, GetPromiseRequest, type GetPromiseResponse, Presence, PromiseProgress, SetPromiseRequest, type SetPromiseResponse } from '#libs/proto';
import { recordTopics, testContext, uniqueId, waitFor } from '#libs/testing';
import { startRouting } from '../../services/routing/src/service';
import { answerOffers, configFor, useRoutingHarness } from '../../services/routing/test/helpers';
import { availableAgent } from './routing-agent';
import { type SmsVoiceStandIn, startSmsVoiceStandIn, whileUnavailable } from './sms-voice-stand-in';

const COMPANY = '+14155550100';
const H = 3_600_000;
const h = useRoutingHarness();
const ctxs = ['routing', 'sms-voice'].map((n) => testContext(`e2e-promises-${n}`));
// Routing's clock: Monday 5 January 2026, 10:00 UTC, moved on by the test.
let offset = Date.UTC(2026, 0, 5, 10, 0) - Date.now();
const clock = { now: () => Date.now() + offset };
let sms: SmsVoiceStandIn;
let recorder: Awaited<ReturnType<typeof recordTopics>>;
let routing: Awaited<ReturnType<typeof startRouting>>;

beforeAll(async () => {
  recorder = await recordTopics([topics.conversationEvents.name]);
  routing = await startRouting(
    ctxs[0]!,
    configFor(h.database('routing_promises'), uniqueId('routing-promises'), { ROUTING_PROMISE_WARNING_LEAD_MS: String(H) }),
    { clock },
  );
  await waitFor(() => routing.ownership.isActive, 30_000, 'routing to take its partitions');
  sms = await startSmsVoiceStandIn(ctxs[1]!, 'promises', routing.grpcPort);
}, 60_000);

afterAll(async () => {
  for (const c of ctxs) await c.stop();
  await recorder?.close();
  await sms?.stop();
});

/** An inbound SMS, signed as Twilio signs it. */
async function texted(from: string, body: string): Promise<void> {
  const params = { MessageSid: `SM${randomBytes(16).toString('hex')}`, AccountSid: sms.accountSid, From: from, To: COMPANY, Body: body };
  const res = await fetch(`${sms.webhookBase}/twilio/sms`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'x-twilio-signature': twilio.getExpectedTwilioSignature(sms.token, 'http://127.0.0.1:1/twilio/sms', params),
    },
    body: new URLSearchParams(params),
  });
  expect(res.status, await res.text()).toBe(200);
}

const smsTo = (number: string) => sms.standIn.items.flatMap((i) => (i.kind === 'sms' && i.to === number ? [i.body ?? ''] : []));
const promiseSteps = (conversationId: string) =>
  recorder
    .values(topics.conversationEvents, ctxs[0]!)
    .flatMap((e) => (e.conversationId === conversationId && e.step?.$case === 'promise' ? [e.step.promise.progress] : []));

describe('promises on a long SMS case', () => {
  it('sends the promise, answers "status", warns the owner and tells the customer when it slips', { timeout: 120_000 }, async () => {
    const customer = `+1415557${String(1000 + Math.floor(Math.random() * 9000))}`;
    const agentId = uniqueId('ann').replace(/[^A-Za-z0-9_.@-]/g, '');
    const desk = await availableAgent(routing.grpcPort, agentId, 'general', [[Channel.CHANNEL_SMS, 1]]);
    let conversationId = '';
    // Only this customer's SMS: other tests' contacts pass through this routing too.
    const ours = (id: string) => routing.engine.conversationState(id)?.recipient?.value === customer;
    const offers = answerOffers(desk, (id) => (ours(id) ? ((conversationId = id), 'accept') : 'decline'));
    try {
      await texted(customer, 'My washing machine leaks, can someone repair it?');
      await waitFor(() => conversationId && routing.engine.conversationState(conversationId)?.state === 'assigned', 30_000, 'the SMS assigned to the agent');
      const setPromise = (req: Partial<SetPromiseRequest>) =>
        desk.call<SetPromiseRequest, SetPromiseResponse>(desk.raw.setPromise, SetPromiseRequest.fromPartial(req));

      // A date in the past: refused with the reason, nothing sent.
      const refused = await setPromise({ conversationId, milestone: 'technician visit', dueAt: new Date(clock.now() - H) }).catch((e: ServiceError) => e);
      expect(refused).toMatchObject({ code: 3, details: expect.stringMatching(/is in the past/) });
      const due = clock.now() + 3 * H;
      const set = await setPromise({ conversationId, milestone: 'technician visit', dueAt: new Date(due), costMinor: 8900, costCurrency: 'USD' });
      expect(set.state).toBe('open');
      expect(set.statusText).toBe(
        'Where we are with your case: next step: technician visit, expected by Monday 5 January 2026, 13:00 UTC. Estimated cost: 89.00 USD.',
      );
      await waitFor(() => smsTo(customer).includes(set.statusText), 30_000, 'the status SMS');
      expect(smsTo(customer).filter((b) => b.includes('in the past'))).toEqual([]);

      // "status" is answered with the current promise; the agent still sees the message.
      await texted(customer, 'Status');
      const answer = 'Status of your case: next step: technician visit, expected by Monday 5 January 2026, 13:00 UTC. Estimated cost: 89.00 USD.';
      await waitFor(() => smsTo(customer).includes(answer), 30_000, 'the answer to "status"');
      await waitFor(
        () => desk.updates.some((u) => u.update?.$case === 'customerMessage' && u.update.customerMessage.contact?.text === 'Status'),
        10_000,
        'the message on the desk',
      );

      // An hour before the deadline the owner is warned on the desk.
      offset += 2 * H + 60_000;
      const warned = await waitFor(
        () =>
          desk.updates.flatMap((u) => (u.update?.$case === 'noted' && u.update.noted.conversationId === conversationId ? [u.update.noted.note!.text] : []))[0],
        30_000,
        'the warning on the desk',
      );
      expect(warned).toMatch(/^Promise due in about 1 h \(Monday 5 January 2026, 13:00 UTC\): "technician visit"/);

      // The deadline passes: the customer is told by SMS.
      offset += H;
      const late =
        'We are sorry: we are late with your case. "technician visit" was expected by Monday 5 January 2026, 13:00 UTC and is not done yet. The person handling your case has been alerted and will send you a new date.';
      await waitFor(() => smsTo(customer).includes(late), 30_000, 'the slip SMS');
      await waitFor(() => promiseSteps(conversationId).includes(PromiseProgress.PROMISE_PROGRESS_SLIPPED), 30_000, 'the slip recorded');
      expect(promiseSteps(conversationId)).toEqual([
        PromiseProgress.PROMISE_PROGRESS_SET,
        PromiseProgress.PROMISE_PROGRESS_ASKED,
        PromiseProgress.PROMISE_PROGRESS_WARNED,
        PromiseProgress.PROMISE_PROGRESS_SLIPPED,
      ]);
      const read = await desk.call<GetPromiseRequest, GetPromiseResponse>(desk.raw.getPromise, GetPromiseRequest.fromPartial({ conversationId }));
      expect(read.state).toBe('slipped');
    } finally {
      offers.stop();
      await whileUnavailable(() => desk.call(desk.raw.setPresence, { agentId: '', presence: Presence.PRESENCE_AWAY }));
      desk.close();
    }
  });
});
