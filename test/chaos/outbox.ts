// Where the system's outbound messages land during the fault suite: a real SMTP server for mail
// and npm start's Twilio stand-in (scripts/outbox) for SMS. Each keeps what it received, so the
// suite can count deliveries per message.
import type http from 'node:http';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { listenOnLoopback, outboxServer } from '../../scripts/outbox/server';
import { TwilioStandIn } from '../../scripts/outbox/twilio-api';

export interface ReceivedMail {
  messageId: string;
  to: string;
  at: number;
}

export interface ReceivedSms {
  to: string;
  body: string;
  at: number;
}

export class Outbox {
  readonly mails: ReceivedMail[] = [];
  private smtp?: SMTPServer;
  private twilio?: http.Server;
  // Every request is counted: nothing may be dropped to bound memory.
  private readonly standIn = new TwilioStandIn({ maxItems: Infinity });

  get sms(): ReceivedSms[] {
    return this.standIn.items.filter((i) => i.kind === 'sms').map((i) => ({ to: i.to, body: i.body, at: i.at.getTime() }));
  }

  async start(smtpPort: number, twilioPort: number): Promise<void> {
    this.smtp = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      onData: (stream, _session, done) => {
        simpleParser(stream).then(
          (mail) => {
            const to = Array.isArray(mail.to) ? mail.to.map((a) => a.text).join(',') : (mail.to?.text ?? '');
            this.mails.push({ messageId: mail.messageId ?? '', to, at: Date.now() });
            done();
          },
          (err: Error) => done(err),
        );
      },
    });
    // The email service killed in the middle of a mail resets its connection: that mail was not
    // delivered, and the service sends it again once it is back.
    this.smtp.on('error', (err) => {
      if ((err as NodeJS.ErrnoException).code !== 'ECONNRESET') throw err;
    });
    await new Promise<void>((resolve) => this.smtp!.listen(smtpPort, '127.0.0.1', resolve));
    this.twilio = outboxServer(this.standIn, { consoleUrl: 'http://127.0.0.1:8090' });
    await listenOnLoopback(this.twilio, twilioPort);
  }

  async stop(): Promise<void> {
    await new Promise<void>((r) => (this.smtp ? this.smtp.close(() => r()) : r()));
    await new Promise<void>((r) => (this.twilio ? this.twilio.close(() => r()) : r()));
  }
}
