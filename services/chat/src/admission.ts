// Who may open a chat socket and start a conversation: caps per client address and per
// instance, so that one address (or a botnet) cannot fill routing's queues or the instance's
// memory. Visitors under the caps never notice them. Pure counting, no I/O: the service
// asks before it accepts, and tells it when a socket closes.
import { RateLimiter } from '#libs/rate-limit';
import type { ChatConfig } from './config';

/** RFC 6455 "Try Again Later": the server is overloaded or this client is over its share. */
export const TRY_AGAIN_LATER = 1013;

export interface AdmissionLimits {
  socketsPerAddress: number;
  socketsTotal: number;
  conversationsPerAddress: number;
  conversationsTotal: number;
  /** The window of both conversation limits. */
  conversationWindowMs: number;
}

/** Why a socket or a new conversation was turned away; sent as the close code and reason. */
export class AdmissionRefused extends Error {
  readonly code = TRY_AGAIN_LATER;
  constructor(
    readonly limit: 'sockets-per-address' | 'sockets-total' | 'conversations-per-address' | 'conversations-total',
    readonly reason: string,
  ) {
    super(reason);
    this.name = 'AdmissionRefused';
  }
}

export function admissionLimits(config: ChatConfig): AdmissionLimits {
  return {
    socketsPerAddress: config.CHAT_MAX_SOCKETS_PER_ADDRESS,
    socketsTotal: config.CHAT_MAX_SOCKETS,
    conversationsPerAddress: config.CHAT_MAX_NEW_CONVERSATIONS_PER_ADDRESS,
    conversationsTotal: config.CHAT_MAX_NEW_CONVERSATIONS,
    conversationWindowMs: config.CHAT_NEW_CONVERSATIONS_WINDOW_MS,
  };
}

/** Whether a page may open the chat socket: the service's own demo page always, any other page if configured. */
export function originAllowed(origin: string, host: string, allowed: ReadonlySet<string>): boolean {
  return origin !== '' && (origin === `http://${host}` || allowed.has(origin));
}

const ALL = 'all';

export class ChatAdmission {
  private readonly sockets = new Map<string, number>();
  private socketsOpen = 0;
  private readonly perAddress: RateLimiter;
  private readonly total: RateLimiter;

  constructor(private readonly limits: AdmissionLimits) {
    this.perAddress = new RateLimiter(limits.conversationsPerAddress, limits.conversationWindowMs);
    this.total = new RateLimiter(limits.conversationsTotal, limits.conversationWindowMs);
  }

  /** Counts a socket from the address, or throws AdmissionRefused when it is over a cap. */
  openSocket(address: string): void {
    const fromAddress = this.sockets.get(address) ?? 0;
    if (this.socketsOpen >= this.limits.socketsTotal) throw new AdmissionRefused('sockets-total', 'the chat is at capacity; try again later');
    if (fromAddress >= this.limits.socketsPerAddress)
      throw new AdmissionRefused('sockets-per-address', 'too many open chats from this address; close one or try again later');
    this.sockets.set(address, fromAddress + 1);
    this.socketsOpen++;
  }

  /** A socket counted by openSocket has closed. */
  closeSocket(address: string): void {
    const fromAddress = this.sockets.get(address) ?? 0;
    if (fromAddress <= 0) return;
    if (fromAddress === 1) this.sockets.delete(address);
    else this.sockets.set(address, fromAddress - 1);
    this.socketsOpen--;
  }

  /** Counts a new conversation from the address, or throws AdmissionRefused when it is over a cap. */
  startConversation(address: string, now: number): void {
    // Checked before counting, so a refusal by one cap does not use up the other.
    if (this.total.isOver(ALL, now))
      throw new AdmissionRefused('conversations-total', 'the chat is taking no new conversations right now; try again in a minute');
    if (this.perAddress.isOver(address, now))
      throw new AdmissionRefused('conversations-per-address', 'too many new conversations from this address; try again later');
    this.total.take(ALL, now);
    this.perAddress.take(address, now);
  }

  get openSockets(): number {
    return this.socketsOpen;
  }
}
