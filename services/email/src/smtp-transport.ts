// The outbound mail server, through nodemailer: the transport with bounded waits, and what its
// errors prove about a send.
import nodemailer, { type Transporter } from 'nodemailer';
import type { SendFailure } from '#libs/delivery';
import type { EmailConfig } from './config';

/**
 * Bounds on one send, so the window in which a crash leaves a mail "maybe sent" is bounded too.
 * SEND_WINDOW_MS is how long another delivery waits on a claim still "sending" before calling it
 * uncertain: above what the transport's timeouts allow one send to take.
 */
const SMTP_TIMEOUTS = { connectionTimeout: 10_000, greetingTimeout: 10_000, socketTimeout: 30_000 };
export const SEND_WINDOW_MS = 120_000;

export function createMailTransport(config: Pick<EmailConfig, 'SMTP_URL'>): Transporter {
  return nodemailer.createTransport({ url: config.SMTP_URL, ...SMTP_TIMEOUTS });
}

/**
 * What a failed send proves. An SMTP reply is the server's word: 5xx refused for good, 4xx not
 * now (nothing was taken either way). A connection that never opened sent nothing. Anything
 * else (a timeout, a connection cut mid-transaction) may have left the mail with the server.
 */
export function classifySmtpFailure(err: unknown): SendFailure {
  const e = err as { responseCode?: number; code?: string; syscall?: string; message?: string };
  const detail = e.message ?? String(err);
  if (typeof e.responseCode === 'number' && e.responseCode >= 400) {
    return { kind: e.responseCode >= 500 ? 'refused-permanently' : 'refused-temporarily', code: String(e.responseCode), detail };
  }
  if (e.syscall === 'connect' || e.code === 'EDNS') return { kind: 'refused-temporarily', code: e.code ?? 'ECONNECTION', detail };
  // Refused by nodemailer itself before connecting (no usable recipient, bad configuration).
  if (e.code === 'EENVELOPE' || e.code === 'ECONFIG') return { kind: 'refused-permanently', code: e.code, detail };
  return { kind: 'uncertain', code: e.code ?? 'ERROR', detail };
}
