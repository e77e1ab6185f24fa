// Playing a call's recording in the desk. customer-record decides who may hear it: the desk reads
// the conversation's history as the person (audited there, with a supervisor's reason) and plays
// only a recording whose entry it was given. The media comes from Twilio's REST API with the
// account's API key, addressed by the sid alone (never a URL from an event), and is streamed
// through with the player's byte range; each playing is logged with who and which conversation.
import type http from 'node:http';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Logger } from '#libs/observability';
import { HttpError, NotFoundError } from '#libs/web';
import type { Backends, Caller } from './backends';
import { audioType, passedRange, recordingHeaders, recordingOf, recordingRequest, type RecordingRequest } from './recording-views';
import { historyItem } from './views';

export interface RecordingAccount {
  /** Twilio's REST API, https://api.twilio.com (a stand-in in tests). */
  apiBase: string;
  accountSid: string;
  apiKeySid: string;
  apiKeySecret: string;
}

/** Twilio did not answer, or answered what the desk does not pass on. */
class RecordingUnavailableError extends HttpError {
  constructor(detail: string) {
    super(502, `the recording could not be fetched from Twilio: ${detail}`);
  }
}

class NoRecordingAccountError extends HttpError {
  constructor() {
    super(503, 'this desk cannot play recordings: TWILIO_ACCOUNT_SID, TWILIO_API_KEY_SID and TWILIO_API_KEY_SECRET are not set');
  }
}

export class RecordingMedia {
  constructor(
    private readonly account: RecordingAccount | undefined,
    private readonly timeoutMs = 10_000,
  ) {}

  /** The recording's MP3 (Twilio's smaller format), or the part of it `range` names. */
  async fetch(sid: string, range: string | undefined, signal: AbortSignal): Promise<Response> {
    const a = this.account;
    if (!a) throw new NoRecordingAccountError();
    const url = `${a.apiBase.replace(/\/$/, '')}/2010-04-01/Accounts/${a.accountSid}/Recordings/${sid}.mp3`;
    const auth = Buffer.from(`${a.apiKeySid}:${a.apiKeySecret}`).toString('base64');
    const res = await fetch(url, {
      headers: { authorization: `Basic ${auth}`, ...(range ? { range } : {}) },
      signal: AbortSignal.any([signal, AbortSignal.timeout(this.timeoutMs)]),
    }).catch((err: unknown) => {
      throw new RecordingUnavailableError(err instanceof Error ? err.message : String(err));
    });
    if (res.status === 404) throw new NotFoundError('the recording is no longer kept: its retention has ended');
    if (res.status === 416) throw new HttpError(416, 'the player asked for a part past the recording’s end');
    if (res.status !== 200 && res.status !== 206) throw new RecordingUnavailableError(`Twilio answered ${res.status}`);
    return res;
  }
}

/** Whether customer-record gave this person the recording's entry on this conversation. */
async function mayHear(backends: Backends, caller: Caller, r: RecordingRequest, reason: string): Promise<boolean> {
  const context = await backends.customerContext(caller, null, r.conversationId, reason);
  const customerId = context.customer?.customerId;
  if (!customerId) throw new NotFoundError('no customer record for this conversation yet');
  const history = await backends.history(caller, customerId, r.conversationId, reason);
  return history.entries.some((e) => recordingOf(historyItem(e).text)?.sid === r.recordingSid);
}

export async function sendRecording(
  deps: { backends: Backends; media: RecordingMedia; logger: Logger },
  caller: Caller,
  reason: string,
  req: http.IncomingMessage,
  res: http.ServerResponse,
): Promise<void> {
  const r = recordingRequest(new URL(req.url ?? '/', 'http://desk').searchParams);
  if (!(await mayHear(deps.backends, caller, r, reason))) throw new NotFoundError('no such recording on this conversation for you');
  const range = passedRange(req.headers.range);
  // A player's first request names the start; its later ones (seeking) are parts of the same playing.
  if (!range || /^bytes=0-/.test(range))
    deps.logger.info({ staffId: caller.id, role: caller.role, conversationId: r.conversationId, recordingSid: r.recordingSid }, 'call recording played');
  const stop = new AbortController();
  res.on('close', () => stop.abort());
  const media = await deps.media.fetch(r.recordingSid, range, stop.signal);
  const type = audioType(media.headers.get('content-type'));
  if (!type || !media.body) throw new RecordingUnavailableError(`Twilio answered ${media.headers.get('content-type') ?? 'no type'}`);
  res.writeHead(
    media.status,
    recordingHeaders(r.recordingSid, type, { length: media.headers.get('content-length'), range: media.headers.get('content-range') }),
  );
  if (req.method === 'HEAD') return void res.end();
  await pipeline(Readable.fromWeb(media.body as import('node:stream/web').ReadableStream), res).catch((err: unknown) => {
    // The player stopped (paused, sought elsewhere, closed the page): not a failure of the desk.
    if ((err as { code?: string }).code !== 'ERR_STREAM_PREMATURE_CLOSE' && !stop.signal.aborted) throw err;
  });
}
