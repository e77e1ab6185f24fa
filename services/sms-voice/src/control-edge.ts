// The desk's call controls on sms-voice's HTTP edge: `POST /desk/calls/control`, JSON, with the
// signed-in agent's own token (signed by the desk, addressed to sms-voice). The control is
// checked against the call (only the agent bridged to it), done through the twilio client, and
// published as an event on the conversation.
import { randomUUID } from 'node:crypto';
import type http from 'node:http';
import { createTokenVerifier, type TokenVerifier, type TrustedKey } from '#libs/auth';
import { errorDetails, type Logger } from '#libs/observability';
import { RateLimiter } from '#libs/rate-limit';
import { bearerCaller, HttpError, readJson, sendJson } from '#libs/web';
import type { Caller } from '#libs/auth';
import { callControlled, CallControlError, planControl, readCallControl, type TwilioStep } from './call-controls';
import { dialledIn, isDialIn, planDialIn, readDialIn } from './dial-ins';
import { liveCallStatus, readLiveCallsAsked } from './live-calls';
import type { ContactSpool } from './spool';
import type { SmsVoiceStore } from './store';
import type { TwilioClient } from './twilio-client';

export const CALL_CONTROL_PATH = '/desk/calls/control';
/** A supervisor's monitor list: the state of the calls of the conversations named. */
export const LIVE_CALLS_PATH = '/desk/calls/live';
const MAX_CONTROL_BYTES = 4 * 1024;
/** 200 conversation ids of 40 characters, quoted, with room. */
const MAX_LIVE_CALLS_BYTES = 16 * 1024;
const CONTROLLERS = new Set(['agent', 'expert', 'supervisor']);
/** The path is on the public port: an address sending this many bad tokens a minute is refused until the minute ends. */
const BAD_TOKENS_PER_MINUTE = 20;

interface ControlEdgeDeps {
  keys: readonly TrustedKey[] | undefined;
  store: SmsVoiceStore;
  client: TwilioClient;
  contacts: Pick<ContactSpool, 'deliverEvent'>;
  holdMusicUrl: string;
  /** Where a person's calls ring: `client:<id>` (softphone) or their own number, from the roster. */
  addressOf(staffId: string): Promise<string>;
  logger: Logger;
  now?: () => Date;
}

const STATUS_OF_REFUSAL = { invalid: 400, 'not-yours': 403, 'no-call': 404, conflict: 409 } as const;

/** Twilio refused or could not be reached: the control was not done. */
class TwilioRefusedError extends HttpError {
  constructor(detail: string) {
    super(502, `Twilio did not take the control: ${detail}`);
  }
}

/** The one place a control's failure gets its status. */
function controlReply(err: unknown): { status: number; message: string } {
  if (err instanceof CallControlError) return { status: STATUS_OF_REFUSAL[err.kind], message: err.message };
  if (err instanceof HttpError) return { status: err.status, message: err.message };
  return { status: 500, message: 'internal error' };
}

export function createControlEdge(deps: ControlEdgeDeps) {
  const verify: TokenVerifier | undefined = deps.keys ? createTokenVerifier({ keys: deps.keys, audience: 'sms-voice' }) : undefined;
  const now = deps.now ?? (() => new Date());
  const badTokens = new RateLimiter(BAD_TOKENS_PER_MINUTE, 60_000);

  const run = async (req: http.IncomingMessage, path: string) => {
    if (req.method !== 'POST') throw new HttpError(405, 'call controls are POST requests');
    if (!verify) throw new HttpError(503, 'call controls are off: AUTH_PUBLIC_KEYS_DIR is not set');
    const caller = await bearerCaller(req, verify, badTokens);
    if (!CONTROLLERS.has(caller.role)) throw new HttpError(403, `a ${caller.role} does not control calls`);
    if (path === LIVE_CALLS_PATH) return liveCalls(caller, await readJson(req, MAX_LIVE_CALLS_BYTES));
    const body = await readJson(req, MAX_CONTROL_BYTES);
    return isDialIn(body) ? dialIn(caller, body) : control(caller, body);
  };

  /** Each call read by its conversation's id, the only look-up the store makes without a scan. */
  const liveCalls = async (caller: Caller, body: unknown) => {
    if (caller.role !== 'supervisor') throw new HttpError(403, 'the live calls are for supervisors');
    const calls = await Promise.all(readLiveCallsAsked(body).map((id) => deps.store.callOfConversation(id)));
    return { calls: calls.flatMap((c) => (c ? [liveCallStatus(c)] : [])) };
  };

  const control = async (caller: Caller, body: unknown) => {
    if (caller.role === 'supervisor') throw new HttpError(403, "a supervisor listens, whispers or barges in; the call's own agent controls it");
    const control = readCallControl(body);
    const call = await deps.store.callOfConversation(control.conversationId);
    const plan = planControl(call, control, caller.id, deps.holdMusicUrl);
    await send(deps.client, plan.step).catch((err: unknown) => {
      throw new TwilioRefusedError((err as { message?: string }).message ?? String(err));
    });
    await deps.store.setCallState(call!._id, plan.state);
    await deps.contacts.deliverEvent(callControlled(control, plan, caller.id, randomUUID(), now()));
    return { action: control.action, ...plan.state };
  };

  /** An expert consulted, or a supervisor listening, whispering or barging in: a participant added. */
  const dialIn = async (caller: Caller, body: unknown) => {
    const { conversationId } = readCallControl({ ...(body as object), action: 'hold' });
    const wanted = readDialIn(body as Record<string, unknown>, conversationId);
    const call = await deps.store.callOfConversation(conversationId);
    const { staffId, participant } = planDialIn(call, wanted, caller);
    const { conference } = call!.bridge!;
    const to = await deps.addressOf(staffId);
    const added = await deps.client
      .conferences(conference)
      .participants.create({ from: call!.company, to, beep: 'false', ...participant })
      .catch((err: unknown) => {
        throw new TwilioRefusedError((err as { message?: string }).message ?? String(err));
      });
    await deps.store.addLeg(call!._id, { staffId, callSid: added.callSid, label: participant.label });
    // Monitoring is audited: the event names the supervisor, the log says a call was joined.
    if (participant.label === 'monitor') deps.logger.info({ conversationId, supervisor: caller.id, mode: wanted.action }, 'supervisor joined a call');
    await deps.contacts.deliverEvent(dialledIn(wanted, caller.id, added.callSid, randomUUID(), now()));
    return { action: wanted.action, callSid: added.callSid };
  };

  /** Answers the control path (true), or leaves the request to the webhooks (false). */
  return async (req: http.IncomingMessage, res: http.ServerResponse): Promise<boolean> => {
    const path = (req.url ?? '').split('?')[0]!;
    if (path !== CALL_CONTROL_PATH && path !== LIVE_CALLS_PATH) return false;
    try {
      sendJson(res, 200, await run(req, path));
    } catch (err) {
      const { status, message } = controlReply(err);
      if (status === 500) deps.logger.error(errorDetails(err), 'call control failed');
      sendJson(res, status, { error: message });
    }
    return true;
  };
}

/** The one Twilio request of a control, through the real client. */
async function send(client: TwilioClient, step: TwilioStep): Promise<void> {
  if (step.resource === 'participant') await client.conferences(step.conferenceSid).participants(step.callSid).update(step.update);
  else if (step.resource === 'call') await client.calls(step.callSid).update(step.update);
}
