// Where the system's outbound messages land during the fault suite: a real SMTP server for mail
// and a local server answering as Twilio's REST API does for SMS. Each keeps what it received, so
// the suite can count deliveries per message.
import http from 'node:http';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';

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
  readonly sms: ReceivedSms[] = [];
  private smtp?: SMTPServer;
  private twilio?: http.Server;
  private sidCounter = 0;

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
    await new Promise<void>((resolve) => this.smtp!.listen(smtpPort, '127.0.0.1', resolve));
    this.twilio = http.createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
      req.on('end', () => {
        const form = Object.fromEntries(new URLSearchParams(body));
        res.setHeader('content-type', 'application/json');
        if (req.method === 'POST' && /\/Messages\.json$/.test(req.url ?? '')) {
          this.sms.push({ to: form.To ?? '', body: form.Body ?? '', at: Date.now() });
          const sid = `SM${(++this.sidCounter).toString(16).padStart(32, '0')}`;
          res.statusCode = 201;
          res.end(JSON.stringify({ sid, status: 'queued', to: form.To, from: form.From, body: form.Body, num_segments: '1' }));
          return;
        }
        // Calls and anything else: accepted as Twilio would, nothing counted.
        res.statusCode = 200;
        res.end(JSON.stringify({ sid: `CA${(++this.sidCounter).toString(16).padStart(32, '0')}`, status: 'in-progress' }));
      });
    });
    await new Promise<void>((resolve) => this.twilio!.listen(twilioPort, '127.0.0.1', resolve));
  }

  async stop(): Promise<void> {
    await new Promise<void>((r) => (this.smtp ? this.smtp.close(() => r()) : r()));
    await new Promise<void>((r) => (this.twilio ? this.twilio.close(() => r()) : r()));
  }
}
