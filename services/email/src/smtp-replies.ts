// The one place inbound failures become SMTP replies: a refusal gets its code (4xx: try again
// later, 5xx: never), anything else a 451 so the sending server keeps the mail and retries.
import { KafkaUnavailableError } from '#libs/kafka';
import { MailLimitError } from './mail-limits';
import { UnusableMailError } from './normalise';
import { ConnectionRateError, RelayDeniedError, SenderRateError, TooManyOpenConnectionsError, UnparsableMailError, type MailRefusal } from './refusals';

/** An SMTP reply other than 250, as smtp-server sends it: `responseCode` and the text. */
class SmtpReply extends Error {
  constructor(
    readonly responseCode: number,
    message: string,
  ) {
    super(message);
    this.name = 'SmtpReply';
  }
}

/** The reply to a failure, and the outcome it is counted under (cc_email_inbound_total). */
interface SmtpAnswer {
  reply: SmtpReply;
  outcome: string;
}

type Refusal = abstract new (...args: never[]) => MailRefusal;

/** Reply code, enhanced status code (RFC 3463) and, when not `refused_<code>`, the outcome. */
const REFUSALS: [Refusal, number, string, string?][] = [
  [TooManyOpenConnectionsError, 421, '4.7.0', 'refused_concurrent_ip'],
  [ConnectionRateError, 421, '4.7.0', 'refused_rate_ip'],
  [SenderRateError, 450, '4.7.1', 'refused_rate_sender'],
  [RelayDeniedError, 550, '5.7.1', 'refused_relay'],
  [MailLimitError, 552, '5.3.4'],
  [UnusableMailError, 550, '5.6.0'],
  [UnparsableMailError, 554, '5.6.0'],
];

export function smtpAnswerTo(err: unknown): SmtpAnswer {
  for (const [refusal, code, status, outcome] of REFUSALS) {
    if (err instanceof refusal) return { reply: new SmtpReply(code, `${status} ${err.message}`), outcome: outcome ?? `refused_${code}` };
  }
  if (err instanceof KafkaUnavailableError) {
    return { reply: new SmtpReply(451, '4.3.0 Temporarily unable to accept the message; please try again later'), outcome: 'deferred_kafka' };
  }
  return { reply: new SmtpReply(451, '4.3.0 Temporary local problem; please try again later'), outcome: 'deferred_error' };
}
