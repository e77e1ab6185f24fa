// Who may connect and hand over mail, and the SMTP reply each refusal gets, without a server.
import { describe, expect, it } from 'vitest';
import { KafkaUnavailableError } from '#libs/kafka';
import { Admission } from '../src/admission';
import { MailLimitError } from '../src/mail-limits';
import { UnusableMailError } from '../src/normalise';
import { UnparsableMailError } from '../src/refusals';
import { smtpAnswerTo } from '../src/smtp-replies';

const limits = {
  SMTP_RATE_PER_IP: 3,
  SMTP_RATE_PER_SENDER: 1,
  SMTP_MAX_CLIENTS_PER_IP: 2,
  SUPPORT_ADDRESSES: ['help@example.com'],
  SUPPORT_DOMAINS: ['shop.test'],
};

function refusal(check: () => void): { code: number; text: string; outcome: string } {
  try {
    check();
  } catch (err) {
    const { reply, outcome } = smtpAnswerTo(err);
    return { code: reply.responseCode, text: reply.message, outcome };
  }
  throw new Error('expected a refusal');
}

describe('admission', () => {
  it('holds an address to its share of open connections, then to its rate, and counts a closed one out', () => {
    const admission = new Admission(limits, () => 0);
    admission.connect('s1', '10.0.0.1');
    admission.connect('s2', '10.0.0.1');
    expect(refusal(() => admission.connect('s3', '10.0.0.1'))).toEqual({
      code: 421,
      text: '4.7.0 Too many open connections from your address (the limit is 2); try again later',
      outcome: 'refused_concurrent_ip',
    });
    admission.closed('s1');
    admission.connect('s4', '10.0.0.1');
    admission.closed('s4');
    expect(refusal(() => admission.connect('s5', '10.0.0.1'))).toMatchObject({ code: 421, outcome: 'refused_rate_ip' });
  });

  it('limits each sender but not the null sender of a bounce, and takes mail only for our addresses', () => {
    const admission = new Admission(limits, () => 0);
    admission.mailFrom('Ada@example.org');
    expect(refusal(() => admission.mailFrom('ada@example.org'))).toMatchObject({
      code: 450,
      text: '4.7.1 Too many messages from this sender; try again later',
      outcome: 'refused_rate_sender',
    });
    admission.mailFrom('');
    admission.mailFrom('');
    admission.rcptTo('HELP@example.com');
    admission.rcptTo('anyone@shop.test');
    expect(refusal(() => admission.rcptTo('someone@elsewhere.test'))).toMatchObject({
      code: 550,
      text: expect.stringMatching(/^5\.7\.1 <someone@elsewhere\.test>: relay access denied/),
      outcome: 'refused_relay',
    });
  });
});

describe('SMTP replies', () => {
  it('gives each refusal of a mail its code, and defers anything else with 451', () => {
    const answer = (err: unknown) => {
      const { reply, outcome } = smtpAnswerTo(err);
      return [reply.responseCode, reply.message, outcome];
    };
    expect(answer(new MailLimitError('Message too big; the limit is 10 bytes'))).toEqual([552, '5.3.4 Message too big; the limit is 10 bytes', 'refused_552']);
    expect(answer(new UnusableMailError('the message has no usable From address'))).toEqual([
      550,
      '5.6.0 the message has no usable From address',
      'refused_550',
    ]);
    expect(answer(new UnparsableMailError('bad'))).toEqual([554, '5.6.0 The message could not be parsed: bad', 'refused_554']);
    expect(answer(new KafkaUnavailableError('no ack'))).toEqual([
      451,
      '4.3.0 Temporarily unable to accept the message; please try again later',
      'deferred_kafka',
    ]);
    expect(answer(new Error('a bug'))).toEqual([451, '4.3.0 Temporary local problem; please try again later', 'deferred_error']);
  });
});
