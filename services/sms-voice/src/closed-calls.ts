// A call outside opening hours: the caller hears when the queue opens and its hours, and may
// ask to be called back (1) or leave a voicemail (2). The voicemail's recording is kept as a
// link on the conversation (Twilio holds the audio). No I/O.
import twilio from 'twilio';
import { eventId } from '#libs/contact';
import { ContactKind, type ContactReceived } from '#libs/proto';
import { callbackRequest } from './calls';

const { VoiceResponse } = twilio.twiml;

/** The longest voicemail taken, in seconds. */
const VOICEMAIL_MAX_SECONDS = 120;

/** Played to a queued caller while the queue is closed, again and again. */
export function whileClosed(notice: string, hours: string, base: string): string {
  const response = new VoiceResponse();
  response.say(notice);
  if (hours) response.say(`Our opening hours are ${hours}.`);
  const gather = response.gather({ numDigits: 1, action: `${base}/twilio/voice/closed-choice`, method: 'POST', timeout: 5 });
  gather.say('To be called back when we open, press 1. To leave a voicemail, press 2. To keep holding, stay on the line.');
  response.pause({ length: 10 });
  return response.toString();
}

/** Leaves the queue for the voicemail: the queue's end (queue-result) answers with the recording. */
export function leaveForVoicemail(): string {
  const response = new VoiceResponse();
  response.leave();
  return response.toString();
}

export function recordVoicemail(base: string): string {
  const response = new VoiceResponse();
  response.say('Please leave your message after the tone, then hang up or press the hash key.');
  response.record({ action: `${base}/twilio/voice/voicemail`, method: 'POST', maxLength: VOICEMAIL_MAX_SECONDS, finishOnKey: '#', playBeep: true });
  response.say('We did not receive a message. Goodbye.');
  return response.toString();
}

export function voicemailKept(): string {
  const response = new VoiceResponse();
  response.say('Thank you. Your message is recorded and we will answer it when we open. Goodbye.');
  response.hangup();
  return response.toString();
}

/** The voicemail as a contact of the call's conversation, its recording a link. */
export function voicemailContact(
  sid: string,
  call: Parameters<typeof callbackRequest>[1],
  recording: { url: string; sid: string; seconds: number },
  at: Date,
): ContactReceived {
  const contact = callbackRequest(sid, call, at);
  return {
    ...contact,
    contactId: eventId('sms-voice', 'voicemail', sid),
    kind: ContactKind.CONTACT_KIND_MESSAGE,
    text: `Voicemail (${recording.seconds} s): ${recording.url}`,
    attachments: [{ name: 'voicemail', contentType: 'audio/x-wav', sizeBytes: 0, sha256: '', storageRef: recording.url }],
    channelMetadata: { ...contact.channelMetadata, 'recording-sid': recording.sid, 'recording-seconds': String(recording.seconds) },
  };
}
