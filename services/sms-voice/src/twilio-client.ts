// Twilio's REST API through the real twilio client, with bounded waits, and what its errors
// prove about a request.
import twilio from 'twilio';
import type RequestClientType from 'twilio/lib/base/RequestClient';
import type { SendFailure } from '#libs/delivery';
import type { SmsVoiceConfig } from './config';
import { TWILIO_WINDOW_CLOSED, TWILIO_WINDOW_CLOSED_WORDS } from './whatsapp';

/**
 * One REST call to Twilio takes at most TWILIO_TIMEOUT_MS; another delivery waits on a part
 * still "sending" for SEND_WINDOW_MS before calling it uncertain (above the timeout).
 */
const TWILIO_TIMEOUT_MS = 15_000;
export const SEND_WINDOW_MS = 60_000;

/** A twilio client whose REST calls go to `apiBaseUrl` (Twilio itself, or a local stand-in in tests). */
export function createTwilioClient(config: Pick<SmsVoiceConfig, 'TWILIO_ACCOUNT_SID' | 'TWILIO_AUTH_TOKEN' | 'TWILIO_API_BASE_URL'>) {
  const base = config.TWILIO_API_BASE_URL.replace(/\/$/, '');
  class RebasedRequestClient extends twilio.RequestClient {
    override request<T>(opts: RequestClientType.RequestOptions<T>) {
      return super.request<T>({ ...opts, uri: opts.uri.replace(/^https:\/\/api\.twilio\.com/, base) });
    }
  }
  return twilio(config.TWILIO_ACCOUNT_SID, config.TWILIO_AUTH_TOKEN, { httpClient: new RebasedRequestClient({ timeout: TWILIO_TIMEOUT_MS }) });
}

export type TwilioClient = ReturnType<typeof createTwilioClient>;

/** Errors of a request that never reached Twilio: nothing can have been created. */
const NEVER_CONNECTED = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

/**
 * What a failed messages.create proves. An HTTP answer from Twilio created nothing: 429 and
 * 5xx may pass later, other 4xx are final. A request that never connected sent nothing. A
 * timeout or a connection cut after the request went out may have created the message.
 */
export function classifyTwilioFailure(err: unknown): SendFailure {
  const e = err as { status?: number; code?: number | string; message?: string; syscall?: string };
  const detail = e.message ?? String(err);
  if (typeof e.status === 'number' && e.status >= 400) {
    const code = String(e.code ?? e.status);
    const why = code === TWILIO_WINDOW_CLOSED ? `${TWILIO_WINDOW_CLOSED_WORDS} (Twilio: ${detail})` : detail;
    return { kind: e.status === 429 || e.status >= 500 ? 'refused-temporarily' : 'refused-permanently', code, detail: why };
  }
  const code = typeof e.code === 'string' ? e.code : 'ERROR';
  if (NEVER_CONNECTED.has(code) || e.syscall === 'connect') return { kind: 'refused-temporarily', code, detail };
  return { kind: 'uncertain', code, detail };
}
