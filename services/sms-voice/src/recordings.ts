// Call recording: which queues record their calls, what the caller of such a call hears first
// (the consent announcement, before they join the conference), and the recording Twilio reports
// becoming an event on the conversation. No I/O.
import twilio from 'twilio';
import { eventId } from '#libs/contact';
import { Channel, ConversationEvent } from '#libs/proto';
import { callerToConference } from './calls';

const { VoiceResponse } = twilio.twiml;

/** Where Twilio reports a conference's recording; the caller's CallSid rides in the (signed) query. */
export const RECORDING_PATH = '/twilio/voice/recording';

/** VOICE_RECORDED_QUEUES as its entries: queue names, or prefixes ending in `*`. */
export function queuePatterns(setting: string): string[] {
  return setting
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);
}

/** Whether calls routed in `queue` are recorded; a call whose queue is not known is not. */
export function queueRecords(queue: string, patterns: readonly string[]): boolean {
  if (!queue) return false;
  return patterns.some((p) => (p.endsWith('*') ? queue.startsWith(p.slice(0, -1)) : queue === p));
}

/**
 * The caller's side of a recorded call: the consent announcement first, then the conference,
 * recorded from its start, whose recording is reported to RECORDING_PATH.
 */
export function recordedCallerToConference(
  conference: string,
  holdMusicUrl: string,
  consent: string,
  callbackUrl: string,
  twiml = new VoiceResponse(),
): string {
  twiml.say(consent);
  return callerToConference(conference, holdMusicUrl, twiml, {
    record: 'record-from-start',
    recordingStatusCallback: callbackUrl,
    recordingStatusCallbackMethod: 'POST',
  });
}

export function recordingCallbackUrl(base: string, callerCallSid: string): string {
  return `${base}${RECORDING_PATH}?${new URLSearchParams({ CallSid: callerCallSid })}`;
}

export interface Recording {
  sid: string;
  url: string;
  seconds: number;
}

/** The recording as an event on the call's conversation: one per recording sid, so Twilio's retries are one. */
export function callRecorded(conversationId: string, callSid: string, recording: Recording, at: Date): ConversationEvent {
  return ConversationEvent.fromPartial({
    eventId: eventId('sms-voice', 'recording', recording.sid),
    conversationId,
    occurredAt: at,
    channel: Channel.CHANNEL_VOICE,
    reason: { code: 'call.recorded', text: `call recorded (${recording.seconds} s)` },
    step: { $case: 'callRecorded', callRecorded: { recordingSid: recording.sid, url: recording.url, durationMs: recording.seconds * 1000, callSid } },
  });
}

/** When a recording made `now` is to be deleted; nothing when recordings are kept without end. */
export function deletion(config: { VOICE_RECORDING_RETENTION_MS: number }, now: Date): { deleteAt?: Date } {
  return config.VOICE_RECORDING_RETENTION_MS > 0 ? { deleteAt: new Date(now.getTime() + config.VOICE_RECORDING_RETENTION_MS) } : {};
}
