// Who may connect and hand over mail, before any of it is read: open connections and
// connections per minute from one address, messages per minute from one sender, and mail only
// for our own addresses. Each check throws the refusal it makes. No I/O.
import { RateLimiter } from '#libs/rate-limit';
import type { EmailConfig } from './config';
import { OpenConnections } from './connection-limits';
import { ConnectionRateError, RelayDeniedError, SenderRateError, TooManyOpenConnectionsError } from './refusals';

type AdmissionLimits = Pick<EmailConfig, 'SMTP_RATE_PER_IP' | 'SMTP_RATE_PER_SENDER' | 'SMTP_MAX_CLIENTS_PER_IP' | 'SUPPORT_ADDRESSES' | 'SUPPORT_DOMAINS'>;

function isSupportRecipient(address: string, config: Pick<EmailConfig, 'SUPPORT_ADDRESSES' | 'SUPPORT_DOMAINS'>): boolean {
  const a = address.trim().toLowerCase();
  const domain = a.slice(a.lastIndexOf('@') + 1);
  return config.SUPPORT_ADDRESSES.includes(a) || (a.includes('@') && config.SUPPORT_DOMAINS.includes(domain));
}

export class Admission {
  private readonly perIp: RateLimiter;
  private readonly perSender: RateLimiter;
  private readonly open: OpenConnections;

  constructor(
    private readonly limits: AdmissionLimits,
    private readonly clock: () => number = Date.now,
  ) {
    this.perIp = new RateLimiter(limits.SMTP_RATE_PER_IP, 60_000);
    this.perSender = new RateLimiter(limits.SMTP_RATE_PER_SENDER, 60_000);
    this.open = new OpenConnections(limits.SMTP_MAX_CLIENTS_PER_IP);
  }

  /** Counts a new connection in; its share of open connections is checked before the rate, so a refused one uses none. */
  connect(sessionId: string, address: string): void {
    if (this.open.openFrom(address) >= this.limits.SMTP_MAX_CLIENTS_PER_IP) throw new TooManyOpenConnectionsError(this.limits.SMTP_MAX_CLIENTS_PER_IP);
    if (!this.perIp.take(address, this.clock())) throw new ConnectionRateError();
    this.open.admit(sessionId, address);
  }

  closed(sessionId: string): void {
    this.open.release(sessionId);
  }

  /** MAIL FROM; the null sender of a bounce is not limited. */
  mailFrom(address: string): void {
    const sender = address.toLowerCase();
    if (sender && !this.perSender.take(sender, this.clock())) throw new SenderRateError();
  }

  rcptTo(address: string): void {
    if (!isSupportRecipient(address, this.limits)) throw new RelayDeniedError(address);
  }
}
