// A bare SMTP client for the tests that must send what a well-behaved client never would:
// bytes as they are, several connections held open, from chosen loopback addresses.
import { connect, type Socket } from 'node:net';

export interface SmtpReplyLine {
  code: number;
  text: string;
}

export interface RawSmtp {
  greeting: SmtpReplyLine;
  command(line: string): Promise<SmtpReplyLine>;
  /** DATA, the message (dot-stuffed here), the final dot: the server's answer to the message. */
  send(from: string, to: string, message: Buffer): Promise<SmtpReplyLine>;
  /** Resolves when the server has closed the connection. */
  closed: Promise<void>;
  close(): void;
  /** Ends the connection with a TCP reset, as a sender that crashed or lost its network. */
  reset(): void;
}

export async function openSmtp(port: number, options: { localAddress?: string; timeoutMs?: number } = {}): Promise<RawSmtp> {
  const socket: Socket = connect({ host: '127.0.0.1', port, localAddress: options.localAddress });
  const timeoutMs = options.timeoutMs ?? 15_000;
  let buffer = '';
  const waiting: ((reply: SmtpReplyLine) => void)[] = [];
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  socket.on('error', () => undefined); // a refused or reset connection shows as "closed"
  socket.on('data', (chunk) => {
    buffer += chunk.toString('latin1');
    // A reply ends with a line "NNN text"; "NNN-text" lines continue it.
    for (let m = /(^|\r\n)(\d{3}) ([^\r\n]*)\r\n/.exec(buffer); m; m = /(^|\r\n)(\d{3}) ([^\r\n]*)\r\n/.exec(buffer)) {
      const end = m.index + m[0].length;
      const text = buffer.slice(0, end).trim();
      buffer = buffer.slice(end);
      waiting.shift()?.({ code: Number(m[2]), text });
    }
  });
  const next = () =>
    new Promise<SmtpReplyLine>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no SMTP reply within ${timeoutMs} ms`)), timeoutMs);
      closed.then(() => setTimeout(() => reject(new Error('the server closed the connection without a reply')), 50));
      waiting.push((reply) => {
        clearTimeout(timer);
        resolve(reply);
      });
    });
  const greeting = await next();
  const command = (line: string) => {
    const reply = next();
    socket.write(`${line}\r\n`);
    return reply;
  };
  return {
    greeting,
    command,
    async send(from, to, message) {
      for (const line of ['EHLO client.test', `MAIL FROM:<${from}>`, `RCPT TO:<${to}>`, 'DATA']) {
        const reply = await command(line);
        if (reply.code >= 400) return reply;
      }
      const reply = next();
      const body = message.toString('latin1').replace(/(^|\n)\./g, '$1..');
      socket.write(Buffer.from(`${body}${body.endsWith('\r\n') ? '' : '\r\n'}.\r\n`, 'latin1'));
      return reply;
    },
    closed,
    close: () => socket.end(),
    reset: () => socket.resetAndDestroy(),
  };
}
