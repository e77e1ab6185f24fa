import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { ContactKind } from '#libs/proto';
import { leaveForVoicemail, recordVoicemail, voicemailContact, voicemailKept, whileClosed } from '../src/closed-calls';

const xml = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@', parseTagValue: false });
const parsed = (twiml: string) => {
  expect(XMLValidator.validate(twiml)).toBe(true);
  return (xml.parse(twiml) as { Response: Record<string, unknown> }).Response;
};
const base = 'https://voice.example.com';

describe('a call outside opening hours', () => {
  it('hears when the queue opens and its hours, and is offered a callback or a voicemail', () => {
    const r = parsed(
      whileClosed('We are closed now; we open again Monday at 09:00 (Europe/Paris) and will answer you then.', 'Monday to Friday 09:00 to 18:00', base),
    );
    expect(r.Say).toEqual([
      'We are closed now; we open again Monday at 09:00 (Europe/Paris) and will answer you then.',
      'Our opening hours are Monday to Friday 09:00 to 18:00.',
    ]);
    expect(r.Gather).toMatchObject({
      '@action': `${base}/twilio/voice/closed-choice`,
      '@numDigits': '1',
      Say: 'To be called back when we open, press 1. To leave a voicemail, press 2. To keep holding, stay on the line.',
    });
  });

  it('leaves the queue for a voicemail recorded to a signed webhook, then thanks the caller', () => {
    expect(parsed(leaveForVoicemail())).toHaveProperty('Leave');
    const r = parsed(recordVoicemail(base));
    expect(r.Record).toMatchObject({ '@action': `${base}/twilio/voice/voicemail`, '@maxLength': '120', '@finishOnKey': '#' });
    expect(parsed(voicemailKept())).toMatchObject({ Say: 'Thank you. Your message is recorded and we will answer it when we open. Goodbye.' });
    const contact = voicemailContact(
      'CA1',
      { conversationId: 'conv-1', customer: '+33612345678', company: '+33100000000' },
      { url: 'https://api.twilio.com/rec/RE1', sid: 'RE1', seconds: 12 },
      new Date(0),
    );
    expect(contact).toMatchObject({
      conversationId: 'conv-1',
      kind: ContactKind.CONTACT_KIND_MESSAGE,
      text: 'Voicemail (12 s): https://api.twilio.com/rec/RE1',
    });
    expect(contact.attachments[0]!.storageRef).toBe('https://api.twilio.com/rec/RE1');
  });
});
