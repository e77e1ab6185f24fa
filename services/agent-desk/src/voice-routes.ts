// The desk's voice routes: the softphone token of the person signed in (or word that their
// calls ring on their own phone), and the call controls of the call they are on.
import type { Role } from '#libs/auth';
import type { StaffRoster } from '#libs/staff';
import { HttpError, NotFoundError } from '#libs/web';
import type { Caller } from './backends';
import { callControlForm, monitorForm, type CallControls } from './call-controls';
import { parseForm } from './forms';
import type { Route } from './http';
import { WORKERS } from './sign-in';
import { mintVoiceToken, type VoiceTokenKeys } from './voice-token';

interface VoiceRouteDeps {
  roster: StaffRoster;
  /** Undefined when the desk has no Twilio API key: no softphone. */
  voiceKeys: VoiceTokenKeys | undefined;
  callControls: CallControls;
  act(roles: Role[], run: (c: Caller, body: unknown) => Promise<unknown>): Route;
}

class NoSoftphoneError extends HttpError {
  constructor() {
    super(503, 'this desk has no softphone: TWILIO_ACCOUNT_SID, TWILIO_API_KEY_SID and TWILIO_API_KEY_SECRET are not set');
  }
}

export function voiceRoutes({ roster, voiceKeys, callControls, act }: VoiceRouteDeps): Record<string, Route> {
  return {
    // A POST with the CSRF token: the answer is a credential, never handed to another site's page.
    '/api/voice/token': act(WORKERS, async (c) => {
      const member = await roster.get(c.id);
      if (!member) throw new NotFoundError('you are no longer on the roster');
      if (member.answerCallsOn === 'phone') return { answerOn: 'phone' };
      if (!voiceKeys) throw new NoSoftphoneError();
      return { answerOn: 'softphone', ...mintVoiceToken(voiceKeys, c.id) };
    }),
    // sms-voice checks that the call is bridged to this agent; the desk checks the form.
    '/api/call/control': act(WORKERS, async (c, body) => callControls.send(c, parseForm(callControlForm, body))),
    // Any live call; sms-voice adds the supervisor's line to its conference, and the event names them.
    '/api/call/monitor': act(['supervisor'], async (c, body) => callControls.send(c, parseForm(monitorForm, body))),
  };
}

/** The softphone's keys from the configuration: all three, or none (no softphone). */
export function voiceTokenKeys(config: {
  TWILIO_ACCOUNT_SID?: string;
  TWILIO_API_KEY_SID?: string;
  TWILIO_API_KEY_SECRET?: string;
  VOICE_TOKEN_TTL_SECONDS: number;
}): VoiceTokenKeys | undefined {
  const { TWILIO_ACCOUNT_SID: accountSid, TWILIO_API_KEY_SID: apiKeySid, TWILIO_API_KEY_SECRET: apiKeySecret } = config;
  if (!accountSid && !apiKeySid && !apiKeySecret) return undefined;
  if (!accountSid || !apiKeySid || !apiKeySecret)
    throw new Error('the softphone needs TWILIO_ACCOUNT_SID, TWILIO_API_KEY_SID and TWILIO_API_KEY_SECRET together; set all three or none');
  return { accountSid, apiKeySid, apiKeySecret, ttlSeconds: config.VOICE_TOKEN_TTL_SECONDS };
}
