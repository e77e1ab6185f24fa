// A call's recording in the conversation view: which entry is one (customer-record leaves its
// text only for those who may hear it), what the player asks the desk for, and the headers the
// desk answers with. No I/O; src/recordings.ts fetches the media.
import { z } from 'zod';
import { BadRequestError } from '#libs/web';

export interface RecordingView {
  sid: string;
  seconds: number;
}

/** customer-record's text of a recorded call's entry: `Call recording (<n> s, RE…): <url>`. */
const RECORDING_TEXT = /^Call recording \((\d{1,7}) s, (RE[0-9a-fA-F]{32})\): /;

/** The recording an entry's text names; undefined for any other entry, or one whose text was left out. */
export function recordingOf(text: string): RecordingView | undefined {
  const m = RECORDING_TEXT.exec(text);
  return m ? { sid: m[2]!, seconds: Number(m[1]) } : undefined;
}

const recordingForm = z.object({
  conversationId: z
    .string()
    .trim()
    .regex(/^conv-CA[0-9a-fA-F]{32}$/, 'conversationId must be the conversation of a call'),
  recordingSid: z.string().regex(/^RE[0-9a-fA-F]{32}$/, 'recordingSid must be a recording: RE followed by 32 hex digits'),
});

export type RecordingRequest = z.output<typeof recordingForm>;

export function recordingRequest(params: URLSearchParams): RecordingRequest {
  const parsed = recordingForm.safeParse({ conversationId: params.get('conversationId') ?? '', recordingSid: params.get('recordingSid') ?? '' });
  if (!parsed.success) throw new BadRequestError(parsed.error.issues.map((i) => i.message).join('; '));
  return parsed.data;
}

/** A single byte range a player asks for, passed on to Twilio; anything else asks for the whole. */
export function passedRange(header: string | undefined): string | undefined {
  return header && /^bytes=\d{0,15}-\d{0,15}$/.test(header.trim()) && header.trim() !== 'bytes=-' ? header.trim() : undefined;
}

/** The audio types Twilio serves recordings as; anything else is not passed to the page. */
const AUDIO = new Set(['audio/mpeg', 'audio/x-wav', 'audio/wav']);

export function audioType(contentType: string | null): string | undefined {
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  return AUDIO.has(type) ? type : undefined;
}

/** Headers of the media the desk passes on: played in the page, never kept in a cache, saved under the sid's name. */
export function recordingHeaders(sid: string, type: string, upstream: { length: string | null; range: string | null }): Record<string, string> {
  return {
    'content-type': type,
    ...(upstream.length && /^\d+$/.test(upstream.length) ? { 'content-length': upstream.length } : {}),
    ...(upstream.range && /^bytes \d+-\d+\/(\d+|\*)$/.test(upstream.range) ? { 'content-range': upstream.range } : {}),
    'accept-ranges': 'bytes',
    'content-disposition': `inline; filename="${sid}.${type === 'audio/mpeg' ? 'mp3' : 'wav'}"`,
    'cache-control': 'private, no-store',
    'x-content-type-options': 'nosniff',
    'content-security-policy': 'sandbox',
    'referrer-policy': 'no-referrer',
  };
}
