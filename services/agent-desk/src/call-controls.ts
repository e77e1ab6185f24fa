// The desk's side of call controls: the agent's control, checked here, sent to sms-voice's
// control edge with the agent's own token (signed by the desk, addressed to sms-voice), and
// sms-voice's refusal passed on in its words.
import { tokenSource, type SigningKey } from '#libs/auth';
import { HttpError } from '#libs/web';
import { z } from 'zod';
import type { Caller } from './backends';
import type { CallStatus } from './watch';

const callConversation = z
  .string({ message: 'conversationId is required' })
  .trim()
  .regex(/^conv-CA[0-9a-fA-F]{32}$/, 'conversationId must be the conversation of a call');

/** A supervisor joining a live call: silently, whispering to the agent, or barging in. */
export const monitorForm = z.object({
  conversationId: callConversation,
  action: z.enum(['listen', 'whisper', 'barge'], { message: 'action must be listen, whisper or barge' }),
});

export const callControlForm = z.object({
  conversationId: callConversation,
  action: z.enum(['mute', 'unmute', 'hold', 'resume', 'hang-up', 'keypad', 'wrap-up', 'consult'], {
    message: 'action must be mute, unmute, hold, resume, hang-up, keypad, wrap-up or consult',
  }),
  toAgentId: z
    .string()
    .trim()
    .regex(/^([a-z0-9][a-z0-9._-]{1,63})?$/, 'toAgentId must be a staff id')
    .optional(),
  digits: z
    .string()
    .regex(/^[0-9*#w]{0,32}$/, 'digits must be up to 32 of 0-9, * and #')
    .default(''),
  note: z.string().trim().max(2000, 'the note is longer than 2,000 characters').default(''),
});

/** sms-voice did not answer, or answered what the desk cannot pass on as it is. */
class CallControlUnavailableError extends HttpError {
  constructor(detail: string) {
    super(502, `the phone service did not take the control: ${detail}`);
  }
}

const PASSED_ON = new Set([400, 403, 404, 409, 502, 503]);

export class CallControls {
  private readonly tokens = new Map<string, () => Promise<string>>();

  constructor(
    private readonly smsVoiceUrl: string,
    private readonly signer: SigningKey,
    private readonly timeoutMs = 5000,
  ) {}

  async send(caller: Caller, control: z.output<typeof callControlForm> | z.output<typeof monitorForm>): Promise<unknown> {
    return this.post(caller, '/desk/calls/control', control);
  }

  /** What sms-voice says each of these conversations' calls is doing (a supervisor's monitor list). */
  async liveCalls(caller: Caller, conversationIds: string[]): Promise<CallStatus[]> {
    if (!conversationIds.length) return [];
    const { calls } = (await this.post(caller, '/desk/calls/live', { conversationIds })) as { calls?: CallStatus[] };
    if (!Array.isArray(calls)) throw new CallControlUnavailableError('no list of calls in its answer');
    return calls;
  }

  private async post(caller: Caller, path: string, body: unknown): Promise<unknown> {
    const key = `${caller.role}:${caller.id}`;
    let token = this.tokens.get(key);
    if (!token) this.tokens.set(key, (token = tokenSource(this.signer, caller, 'sms-voice')));
    const res = await fetch(`${this.smsVoiceUrl.replace(/\/$/, '')}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${await token()}` },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(this.timeoutMs),
    }).catch((err: unknown) => {
      throw new CallControlUnavailableError(err instanceof Error ? err.message : String(err));
    });
    const answer = (await res.json().catch(() => ({}))) as { error?: string };
    if (res.ok) return answer;
    if (PASSED_ON.has(res.status)) throw new HttpError(res.status, answer.error ?? `refused (${res.status})`);
    throw new CallControlUnavailableError(`status ${res.status}`);
  }
}
