// Steady load on every channel, sent as real senders would and retried as they would: an MTA
// retries a 4xx or a dropped connection with the same Message-ID, Twilio (with connection
// overrides) retries a failed webhook with the same MessageSid, the chat widget resends an unacked
// message with the same clientMessageId after reconnecting. A contact counts as accepted when the
// channel said so (250, 200, ack); each carries a marker so the suite can find it downstream.
import nodemailer, { type Transporter } from 'nodemailer';
import twilio from 'twilio';
import WebSocket from 'ws';
import { sleep } from './system';

export type ChannelName = 'email' | 'sms' | 'chat';

export interface Accepted {
  channel: ChannelName;
  marker: string;
  at: number;
}

export interface LoadTargets {
  smtpPorts: number[];
  smsPort: number;
  smsPublicBaseUrl: string;
  twilioAuthToken: string;
  companyNumber: string;
  chatPorts: number[];
}

/** How long a sender keeps retrying one contact before it counts it as not accepted. */
const GIVE_UP_MS = 90_000;

export class Load {
  readonly accepted: Accepted[] = [];
  readonly notAccepted: { channel: ChannelName; marker: string; lastError: string }[] = [];
  private running = false;
  private readonly pending = new Set<Promise<void>>();
  private seq = 0;

  constructor(
    private readonly run: string,
    private readonly targets: LoadTargets,
    private readonly perSecond: { email: number; sms: number; chatters: number },
  ) {}

  start(): void {
    this.running = true;
    this.pace('email', this.perSecond.email, (marker) => this.sendMail(marker));
    this.pace('sms', this.perSecond.sms, (marker) => this.sendSms(marker));
    for (let i = 0; i < this.perSecond.chatters; i++) void this.chatter(i);
  }

  /** Stops offering new contacts and waits for what is in flight to be accepted or given up. */
  async stop(): Promise<void> {
    this.running = false;
    while (this.pending.size > 0) await Promise.race(this.pending);
  }

  private marker(channel: ChannelName): string {
    return `chaos-${this.run}-${channel}-${++this.seq}`;
  }

  private track(work: Promise<void>): void {
    this.pending.add(work);
    void work.finally(() => this.pending.delete(work));
  }

  private pace(channel: ChannelName, perSecond: number, send: (marker: string) => Promise<void>): void {
    if (perSecond <= 0) return;
    const tick = () => {
      if (!this.running) return;
      this.track(this.retrying(channel, this.marker(channel), send));
      setTimeout(tick, 1000 / perSecond);
    };
    tick();
  }

  private async retrying(channel: ChannelName, marker: string, send: (marker: string) => Promise<void>): Promise<void> {
    const deadline = Date.now() + GIVE_UP_MS;
    let lastError = '';
    for (let attempt = 0; Date.now() < deadline; attempt++) {
      try {
        await send(marker);
        this.accepted.push({ channel, marker, at: Date.now() });
        return;
      } catch (err) {
        lastError = err instanceof Error ? err.message : String(err);
        await sleep(Math.min(500 * 2 ** attempt, 4000));
      }
    }
    this.notAccepted.push({ channel, marker, lastError });
  }

  private transports = new Map<number, Transporter>();

  private async sendMail(marker: string): Promise<void> {
    const ports = this.targets.smtpPorts;
    const port = ports[this.seq % ports.length]!;
    let transport = this.transports.get(port);
    if (!transport) {
      transport = nodemailer.createTransport({
        host: '127.0.0.1',
        port,
        secure: false,
        ignoreTLS: true,
        connectionTimeout: 5000,
        greetingTimeout: 5000,
        socketTimeout: 10_000,
      });
      this.transports.set(port, transport);
    }
    // The same Message-ID on every attempt, as a retrying MTA keeps it.
    await transport.sendMail({
      from: `"Customer ${marker}" <${marker}@customers.test>`,
      to: 'help@support.test',
      subject: `Order question ${marker}`,
      text: `Hello, where is my order? ${marker}`,
      messageId: `<${marker}@customers.test>`,
    });
  }

  private async sendSms(marker: string): Promise<void> {
    const n = Number(marker.split('-').pop());
    const url = `${this.targets.smsPublicBaseUrl}/twilio/sms`;
    const params = {
      MessageSid: `SM${Buffer.from(marker).toString('hex').slice(-32).padStart(32, '0')}`,
      AccountSid: 'AC00000000000000000000000000000000',
      From: `+1415${String(2_000_000 + (n % 7_000_000)).padStart(7, '0')}`,
      To: this.targets.companyNumber,
      Body: `Hi, my parcel has not arrived ${marker}`,
      NumMedia: '0',
    };
    const res = await fetch(`http://127.0.0.1:${this.targets.smsPort}/twilio/sms`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'x-twilio-signature': twilio.getExpectedTwilioSignature(this.targets.twilioAuthToken, url, params),
      },
      body: new URLSearchParams(params).toString(),
      // Twilio gives a webhook 15 s.
      signal: AbortSignal.timeout(15_000),
    });
    if (res.status !== 200) throw new Error(`webhook answered ${res.status}`);
  }

  /** One visitor: a conversation of its own, one message every two seconds, resumed after any drop. */
  private async chatter(index: number): Promise<void> {
    const visitor: Visitor = { index, lastSeq: 0, unacked: new Map() };
    const ports = this.targets.chatPorts;
    for (let attempt = 0; this.running; attempt++) {
      const port = ports[(index + attempt) % ports.length]!;
      // A dropped session (service killed or restarting) ends here; the visitor reconnects to the next instance.
      await this.chatSession(`ws://127.0.0.1:${port}/chat`, `http://127.0.0.1:${port}`, visitor);
      if (this.running) await sleep(500);
    }
  }

  private chatSession(url: string, origin: string, visitor: Visitor): Promise<void> {
    return new Promise<void>((resolve) => {
      const ws = new WebSocket(url, { origin });
      let timer: NodeJS.Timeout | undefined;
      const send = (id: string, marker: string) => {
        visitor.unacked.set(id, marker);
        ws.send(JSON.stringify({ type: 'message', clientMessageId: id, text: `Question about my bill ${marker}` }));
      };
      const finish = () => {
        clearInterval(timer);
        ws.terminate();
        resolve();
      };
      ws.on('open', () => ws.send(JSON.stringify({ type: 'hello', ...(visitor.token ? { token: visitor.token } : {}), lastSeq: visitor.lastSeq })));
      ws.on('error', finish);
      ws.on('close', finish);
      ws.on('message', (data) => {
        const frame = JSON.parse(data.toString()) as { type: string; token?: string; clientMessageId?: string; seq?: number; lastSeq?: number };
        if (frame.type === 'welcome') {
          visitor.token = frame.token;
          visitor.lastSeq = Math.max(visitor.lastSeq, frame.lastSeq ?? 0);
          // What was not acked on the last socket is resent with the same clientMessageId.
          for (const [id, marker] of visitor.unacked) send(id, marker);
          timer = setInterval(() => {
            if (!this.running) return finish();
            const marker = this.marker('chat');
            send(`v${visitor.index}-${marker.split('-').pop()}`, marker);
          }, 2000);
        } else if (frame.type === 'ack' && frame.clientMessageId) {
          const marker = visitor.unacked.get(frame.clientMessageId);
          if (marker) {
            visitor.unacked.delete(frame.clientMessageId);
            this.accepted.push({ channel: 'chat', marker, at: Date.now() });
          }
          visitor.lastSeq = Math.max(visitor.lastSeq, frame.seq ?? 0);
        } else if (typeof frame.seq === 'number') {
          visitor.lastSeq = Math.max(visitor.lastSeq, frame.seq);
        }
      });
    });
  }
}

interface Visitor {
  index: number;
  token?: string;
  lastSeq: number;
  unacked: Map<string, string>;
}
