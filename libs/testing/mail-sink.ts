// A mail server on loopback that takes what the service under test sends out and keeps each mail
// parsed, as a customer's mail server would receive it.
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { listen } from '../observability';

export interface MailSink {
  /** Every mail taken, oldest first. */
  mails: ParsedMail[];
  port: number;
  /** For the service's SMTP_URL. */
  url: string;
  close(): Promise<void>;
}

export interface MailSinkOptions {
  /** A refusal for this recipient (for example 550 "5.1.1 no such user"), or undefined to take it. */
  refuse?: (recipient: string) => { responseCode: number; message: string } | undefined;
}

export async function startMailSink(options: MailSinkOptions = {}): Promise<MailSink> {
  const mails: ParsedMail[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['AUTH', 'STARTTLS'],
    logger: false,
    onRcptTo(address, _session, cb) {
      const refusal = options.refuse?.(address.address);
      cb(refusal ? Object.assign(new Error(refusal.message), { responseCode: refusal.responseCode }) : undefined);
    },
    onData: (stream, _session, cb) => void simpleParser(stream).then((mail) => (mails.push(mail), cb()), cb),
  });
  const port = await listen(server.server, 0);
  return { mails, port, url: `smtp://127.0.0.1:${port}`, close: () => new Promise<void>((r) => server.close(() => r())) };
}
