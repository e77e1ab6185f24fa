// The part of Twilio's REST API the SMS and voice service calls, answered as Twilio answers it:
// sending a message, placing a call, giving a live call new instructions, and the participants
// of conferences (conferences.ts). Nothing leaves
// the machine; each request is kept so that it can be shown (page.ts) or counted (the fault suite).
import type http from 'node:http';
import { ConferenceNotFound, Conferences, participantResource, type Participant } from './conferences';
import { MessageRefusal, readMessage, WhatsAppWindows } from './messages';
import type { SentItem } from './page';
import { byteRange, RECORDING_MEDIA, type MediaFormat } from './recording-media';

/** Twilio takes at most 1,600 characters a message; a form of a few of them fits well within this. */
const MAX_BODY_BYTES = 64 * 1024;

const ACCOUNT = '/2010-04-01/Accounts/([^/]+)';
const MESSAGES = new RegExp(`^${ACCOUNT}/Messages\\.json$`);
const CALLS = new RegExp(`^${ACCOUNT}/Calls\\.json$`);
const CALL = new RegExp(`^${ACCOUNT}/Calls/([^/]+)\\.json$`);
const PARTICIPANTS = new RegExp(`^${ACCOUNT}/Conferences/([^/]+)/Participants\\.json$`);
const PARTICIPANT = new RegExp(`^${ACCOUNT}/Conferences/([^/]+)/Participants/([^/]+)\\.json$`);
const RECORDING = new RegExp(`^${ACCOUNT}/Recordings/(RE[0-9a-fA-F]{32})\\.json$`);
const RECORDING_FILE = new RegExp(`^${ACCOUNT}/Recordings/(RE[0-9a-fA-F]{32})\\.(wav|mp3)$`);

export interface TwilioStandInOptions {
  /** How many requests are kept, the oldest dropped first (unbounded: Infinity). */
  maxItems?: number;
  /** The conversation a live call belongs to, when the caller's service names calls in a known way. */
  conversationOfCall?: (callSid: string) => string | undefined;
  now?: () => Date;
  /**
   * Refuse free-form WhatsApp messages outside the 24 hours after the customer's last message
   * (63016), as Twilio does. The stand-in only knows what it is told (`customerWrote`), so this is
   * for tests that tell it; off, every free-form WhatsApp message is taken.
   */
  whatsAppWindow?: boolean;
}

class TwilioError extends Error {
  constructor(
    readonly status: number,
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

export class TwilioStandIn {
  /** What was sent, oldest first. */
  readonly items: SentItem[] = [];
  private counter = 0;
  private readonly maxItems: number;
  private readonly now: () => Date;
  private readonly conferences = new Conferences((prefix) => this.sid(prefix));
  /**
   * Addresses Twilio refuses to call (as for a number outside the account's geographic
   * permissions): a participant added at one of them gets 400 with code 21215. Tests fill it.
   */
  readonly refusedAddresses = new Set<string>();
  private readonly windows = new WhatsAppWindows();

  constructor(private readonly options: TwilioStandInOptions = {}) {
    this.maxItems = options.maxItems ?? 1000;
    this.now = options.now ?? (() => new Date());
  }

  /** Who is in the conference of that friendly name now: callers who dialled in, and participants added. */
  participantsOf(conferenceName: string): Participant[] {
    return this.conferences.participantsOf(conferenceName);
  }

  /** A customer's WhatsApp message reached the company's sender: free-form messages may go to them for 24 hours. */
  customerWrote(customer: string, company: string, at = this.now()): void {
    this.windows.customerWrote(customer, company, at);
  }

  /** Whether `url` is a path of the REST API (the rest of a server's paths are its own). */
  static handles(url: string): boolean {
    return url.startsWith('/2010-04-01/');
  }

  /** Answers one REST request. */
  async answer(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    try {
      const path = new URL(req.url ?? '/', 'http://localhost').pathname;
      const media = RECORDING_FILE.exec(path);
      if (media && (req.method === 'GET' || req.method === 'HEAD')) return this.recordingMedia(req, res, media[1]!, media[2]!, media[3] as MediaFormat);
      const route = this.route(req.method ?? 'GET', path);
      if (!route) throw new TwilioError(404, 20404, `The requested resource ${path} was not found`);
      // Twilio authenticates with the account SID (or one of its API keys) and a secret; the SID must be the path's account.
      if (!authenticates(req, route.account)) throw new TwilioError(401, 20003, 'Authenticate');
      const form = await readForm(req);
      const { status, body } = route.run(form);
      send(res, status, body);
    } catch (err) {
      const e =
        err instanceof TwilioError
          ? err
          : err instanceof MessageRefusal
            ? new TwilioError(err.status, err.code, err.message)
            : err instanceof ConferenceNotFound
              ? new TwilioError(404, 20404, err.message)
              : new TwilioError(500, 20500, 'Internal Server Error');
      // The rest of a body too large is not read: the connection cannot carry another request.
      if (e.status === 413) res.setHeader('connection', 'close');
      send(res, e.status, { code: e.code, message: e.message, more_info: `https://www.twilio.com/docs/errors/${e.code}`, status: e.status });
    }
  }

  private route(method: string, path: string): { account: string; run: (form: URLSearchParams) => { status: number; body?: object } } | undefined {
    if (method === 'DELETE') {
      const r = RECORDING.exec(path);
      return r ? { account: r[1]!, run: () => this.deleteRecording(r[2]!) } : undefined;
    }
    if (method !== 'POST') return undefined;
    let m = MESSAGES.exec(path);
    if (m) return { account: m[1]!, run: (form) => this.message(m![1]!, form) };
    m = CALLS.exec(path);
    if (m) return { account: m[1]!, run: (form) => this.call(m![1]!, this.sid('CA'), form, 201) };
    m = CALL.exec(path);
    if (m) return { account: m[1]!, run: (form) => this.call(m![1]!, decodeURIComponent(m![2]!), form, 200) };
    m = PARTICIPANTS.exec(path);
    if (m) return { account: m[1]!, run: (form) => this.addParticipant(m![1]!, decodeURIComponent(m![2]!), form) };
    m = PARTICIPANT.exec(path);
    if (m) return { account: m[1]!, run: (form) => this.changeParticipant(m![1]!, decodeURIComponent(m![2]!), decodeURIComponent(m![3]!), form) };
    return undefined;
  }

  /** The recordings' media fetched, as `<sid>.<format>`, oldest first. */
  readonly mediaFetched: string[] = [];

  /**
   * A recording's media, as an account that asks for HTTP authentication on media serves it: any
   * sid not deleted has a second of audio; one deleted is gone (404). One byte range is served (206).
   */
  private recordingMedia(req: http.IncomingMessage, res: http.ServerResponse, account: string, sid: string, format: MediaFormat): void {
    if (!authenticates(req, account)) throw new TwilioError(401, 20003, 'Authenticate');
    if (this.deletedRecordings.includes(sid)) throw new TwilioError(404, 20404, `The requested resource /Recordings/${sid}.${format} was not found`);
    const { type, bytes } = RECORDING_MEDIA[format];
    const range = byteRange(req.headers.range, bytes.length);
    if (range === null) {
      res.writeHead(416, { 'content-range': `bytes */${bytes.length}` }).end();
      return;
    }
    this.mediaFetched.push(`${sid}.${format}`);
    const part = range ? bytes.subarray(range.start, range.end + 1) : bytes;
    const headers = { 'content-type': type, 'content-length': String(part.length), 'accept-ranges': 'bytes' };
    const status = range ? 206 : 200;
    res.writeHead(status, range ? { ...headers, 'content-range': `bytes ${range.start}-${range.end}/${bytes.length}` } : headers);
    res.end(req.method === 'HEAD' ? undefined : part);
  }

  /** The recordings deleted through the API, oldest first. */
  readonly deletedRecordings: string[] = [];

  /** Twilio answers 204 without a body; a recording it no longer has, 404 (20404). */
  private deleteRecording(sid: string): { status: number } {
    if (this.deletedRecordings.includes(sid)) throw new TwilioError(404, 20404, `The requested resource /Recordings/${sid}.json was not found`);
    this.deletedRecordings.push(sid);
    this.keep({ kind: 'call', sid, to: '', from: '', body: `recording ${sid} deleted` });
    return { status: 204 };
  }

  /** Twilio places a call to `To` and puts it in the conference, created when the name is new. */
  private addParticipant(account: string, conferenceName: string, form: URLSearchParams): { status: number; body: object } {
    const to = form.get('To') ?? '';
    const from = form.get('From') ?? '';
    if (!to) throw new TwilioError(400, 21604, "A 'To' phone number is required.");
    if (!from) throw new TwilioError(400, 21603, "A 'From' phone number is required.");
    if (this.refusedAddresses.has(to)) throw new TwilioError(400, 21215, `Account not authorized to call ${to.slice(0, 40)}`);
    const conference = this.conferences.find(conferenceName, true);
    const at = this.now();
    const participant = this.conferences.add(conference, form, at);
    const coach = participant.coaching ? `, coaching ${participant.callSidToCoach}` : '';
    this.keep({
      kind: 'call',
      sid: participant.callSid,
      to,
      from,
      body: `join conference ${conference.friendlyName}${participant.muted ? ', muted' : ''}${coach}`,
    });
    return { status: 201, body: participantResource(account, conference, participant, 'queued') };
  }

  /** Mute, hold (with its music) and coaching of a call in a conference, named by the conference's sid. */
  private changeParticipant(account: string, conferenceSid: string, callSid: string, form: URLSearchParams): { status: number; body: object } {
    const conference = this.conferences.find(conferenceSid, false);
    const participant = this.conferences.update(conference, callSid, form, this.now());
    const change = [...form.entries()].map(([name, value]) => `${name}=${value}`).join(', ');
    this.keep({ kind: 'call', sid: callSid, to: '', from: '', body: `conference ${conference.friendlyName}: ${change}` });
    return { status: 200, body: participantResource(account, conference, participant, 'connected') };
  }

  private message(account: string, form: URLSearchParams): { status: number; body: object } {
    const m = readMessage(form);
    if (this.options.whatsAppWindow) this.windows.check(m, this.now());
    const { to, from, body } = m;
    const sid = this.sid('SM');
    const template = m.contentSid ? { contentSid: m.contentSid, contentVariables: m.contentVariables ?? '{}' } : {};
    const at = this.keep({ kind: 'sms', sid, to, from, body, ...template });
    return {
      status: 201,
      body: {
        sid,
        account_sid: account,
        to,
        from,
        body,
        status: 'queued',
        num_segments: '1',
        direction: 'outbound-api',
        date_created: at.toUTCString(),
        uri: `/2010-04-01/Accounts/${account}/Messages/${sid}.json`,
      },
    };
  }

  /** A new call (201) or new instructions for a live one (200): what the caller is told to do is kept. */
  private call(account: string, sid: string, form: URLSearchParams, status: number): { status: number; body: object } {
    const instructions =
      form.get('Twiml') ?? (form.get('Url') ? `fetch TwiML from ${form.get('Url')}` : form.get('Status') ? `status: ${form.get('Status')}` : '');
    if (!instructions) throw new TwilioError(400, 21205, 'Url, Twiml or Status is required.');
    const to = form.get('To') ?? '';
    const from = form.get('From') ?? '';
    if (form.has('Twiml')) this.conferences.joinByTwiml(sid, form.get('Twiml') ?? '', this.now());
    else if (form.get('Status') === 'completed') this.conferences.leave(sid);
    if (status === 201) checkNewCall(to, from);
    const conversationId = this.options.conversationOfCall?.(sid);
    const statusCallback = form.get('StatusCallback') ?? '';
    const at = this.keep({
      kind: 'call',
      sid,
      to,
      from,
      body: instructions,
      ...(conversationId ? { conversationId } : {}),
      ...(statusCallback ? { statusCallback } : {}),
    });
    return {
      status,
      body: {
        sid,
        account_sid: account,
        to,
        from,
        status: status === 201 ? 'queued' : 'in-progress',
        direction: status === 201 ? 'outbound-api' : 'inbound',
        date_updated: at.toUTCString(),
        uri: `/2010-04-01/Accounts/${account}/Calls/${sid}.json`,
      },
    };
  }

  private keep(item: Omit<SentItem, 'at'>): Date {
    const at = this.now();
    this.items.push({ ...item, at });
    if (this.items.length > this.maxItems) this.items.splice(0, this.items.length - this.maxItems);
    return at;
  }

  private sid(prefix: string): string {
    return `${prefix}${(++this.counter).toString(16).padStart(32, '0')}`;
  }
}

/** A new call needs a number to call (E.164, or a softphone as client:<id>) and a number to call from. */
function checkNewCall(to: string, from: string): void {
  if (!to) throw new TwilioError(400, 21201, "No 'To' number is specified");
  if (!from) throw new TwilioError(400, 21213, "No 'From' number is specified");
  if (!/^(\+[1-9]\d{6,14}|client:[A-Za-z0-9_.@-]{1,121})$/.test(to)) throw new TwilioError(400, 21211, `Invalid 'To' Phone Number: ${to.slice(0, 40)}`);
}

/** Twilio takes the account SID, or an API key (SK…) of the account, as the user; secrets are not checked here. */
function authenticates(req: http.IncomingMessage, account: string): boolean {
  const user = basicUser(req.headers.authorization);
  return user === account || /^SK[0-9a-fA-F]{32}$/.test(user ?? '');
}

function basicUser(header: string | undefined): string | undefined {
  const m = /^Basic\s+(\S+)$/i.exec(header ?? '');
  if (!m) return undefined;
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
  return decoded.includes(':') ? decoded.slice(0, decoded.indexOf(':')) : undefined;
}

async function readForm(req: http.IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new TwilioError(413, 20413, `request body is larger than ${MAX_BODY_BYTES / 1024} KB`);
    chunks.push(chunk as Buffer);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

function send(res: http.ServerResponse, status: number, body?: object): void {
  if (!body) {
    res.writeHead(status).end();
    return;
  }
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' }).end(JSON.stringify(body));
}
