// The agent joins a callback once the customer picks up: dialled into the conversation's
// conference as for an inbound call, claimed once per attempt, and kept as the call's bridge so
// every call control, consult and monitor works on a callback too.
import { deliverOnce } from '#libs/delivery';
import { topics, type EventProducer } from '#libs/kafka';
import type { Logger } from '#libs/observability';
import { agentDialInFailed } from './callbacks';
import { conferenceName } from './calls';
import type { SmsVoiceStore } from './store';
import { classifyTwilioFailure, SEND_WINDOW_MS, type TwilioClient } from './twilio-client';

/** Inside a webhook (Twilio waits 15 s at most): two tries, a quarter second apart. */
const DIAL_IN_ATTEMPTS = 2;

export type CallbackBridge = (callSid: string) => Promise<void>;

export function createCallbackBridge(deps: { store: SmsVoiceStore; client: TwilioClient; logger: Logger; producer: EventProducer }): CallbackBridge {
  return async (callSid) => {
    const call = await deps.store.callOf(callSid);
    if (!call?.callback || call.bridge || call.endedAt) return;
    const conference = conferenceName(call.conversationId);
    const { agentId, agentAddress, messageId } = call.callback;
    const outcome = await deliverOnce({
      id: `callback/${messageId}/agent`,
      claims: deps.store.deliveries,
      send: () =>
        deps.client
          .conferences(conference)
          .participants.create({
            from: call.company,
            to: agentAddress,
            label: 'agent',
            startConferenceOnEnter: true,
            endConferenceOnExit: false,
            beep: 'false',
          })
          .then((p) => `${p.conferenceSid}/${p.callSid}`),
      classify: classifyTwilioFailure,
      maxAttempts: DIAL_IN_ATTEMPTS,
      backoffMs: () => 250,
      sendWindowMs: SEND_WINDOW_MS,
    });
    if (outcome.kind !== 'sent') {
      // The customer hears the hold music meanwhile. A dial-in that may have rung is left be; one
      // that surely failed is reported, and routing gives the callback to another agent.
      deps.logger.warn({ conversationId: call.conversationId, agentId, code: outcome.code }, 'the agent was not dialled into the answered callback');
      if (outcome.kind === 'failed') {
        const event = agentDialInFailed(call.conversationId, { agentId, code: outcome.code, callbackAttempt: call.callback.attempt, messageId }, new Date());
        await deps.producer.publish(topics.conversationEvents, call.conversationId, event, { id: event.eventId });
      }
      return;
    }
    const [conferenceSid = '', agentCallSid = ''] = outcome.providerId.split('/');
    await deps.store.bridged(callSid, { agentId, agentCallSid, conferenceSid, conference }, true);
  };
}
