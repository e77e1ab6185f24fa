// One visitor's connection: who they are once they said hello, what they typed about
// themselves, and their frames handled one after the other at a bounded rate. The socket
// itself is the WebSocket adapter's (visitor-socket.ts); a session sees only its line.
import { errorDetails, type Logger } from '#libs/observability';
import type { AdmissionRefused } from './admission';
import { internalError } from './answers';
import type { ChatConfig } from './config';
import type { ConnectedVisitors } from './connected';
import type { ChatMetrics } from './metrics';
import { CLOSE, type ServerFrame, type VisitorProfile } from './protocol';
import { TokenBucket } from './rate-limit';
import type { VisitorClaims } from './token';

/** What a session needs of its socket. */
export interface VisitorLine {
  readonly open: boolean;
  send(frame: ServerFrame): void;
  /** Closes with the code and reason; `countedAs` labels the close in the metrics (the reason by default). */
  close(code: number, reason: string, countedAs?: string): void;
}

export interface SessionParts {
  config: Pick<ChatConfig, 'CHAT_RATE_BURST' | 'CHAT_RATE_PER_SECOND' | 'CHAT_HELLO_TIMEOUT_MS'>;
  metrics: Pick<ChatMetrics, 'frames'>;
  log: Logger;
  connected: ConnectedVisitors<VisitorSession>;
  handleFrame: (session: VisitorSession, raw: string) => Promise<void>;
}

/** Closes a socket or a conversation that admission turned away: only a close code reaches the widget. */
export function turnAway(line: VisitorLine, err: AdmissionRefused, log: Logger): void {
  log.warn({ limit: err.limit }, 'chat admission refused');
  line.close(err.code, err.reason, err.limit);
}

export class VisitorSession {
  claims?: VisitorClaims;
  /**
   * What the visitor typed about themselves as this session knows it (stored at hello, then
   * from its profile frames): read once, not for every message, since reads cost on the local
   * store. Claims only: anybody can type anybody's address.
   */
  profile: VisitorProfile = {};
  /** The email this conversation's visitor proved with a mailed code, if any: an identity. */
  verifiedEmail?: string;
  private readonly bucket: TokenBucket;
  /** Frames of one connection are handled one after the other, so acks keep the order. */
  private chain: Promise<void> = Promise.resolve();
  private readonly helloTimer: NodeJS.Timeout;

  constructor(
    private readonly line: VisitorLine,
    readonly origin: string,
    /** The client's address (through trusted proxies), for the caps per address. */
    readonly address: string,
    private readonly parts: SessionParts,
  ) {
    const { config } = parts;
    this.bucket = new TokenBucket(config.CHAT_RATE_BURST, config.CHAT_RATE_PER_SECOND, Date.now());
    this.helloTimer = setTimeout(() => this.closeWith(CLOSE.policyViolation, 'no hello'), config.CHAT_HELLO_TIMEOUT_MS);
  }

  get isOpen(): boolean {
    return this.line.open;
  }

  send(frame: ServerFrame): void {
    this.line.send(frame);
  }

  closeWith(code: number, reason: string): void {
    this.line.close(code, reason);
  }

  turnAway(err: AdmissionRefused): void {
    turnAway(this.line, err, this.parts.log);
  }

  helloReceived(): void {
    clearTimeout(this.helloTimer);
  }

  /** A text frame from the browser. */
  received(raw: string): void {
    if (!this.bucket.take(Date.now())) {
      this.parts.metrics.frames.inc({ outcome: 'rate-limited' });
      return this.closeWith(CLOSE.policyViolation, 'rate limit exceeded');
    }
    this.chain = this.chain
      .then(() => this.parts.handleFrame(this, raw))
      .catch((err: unknown) => {
        this.parts.log.error(errorDetails(err), 'handling a visitor frame failed');
        this.send(internalError());
      });
  }

  /** The socket closed. */
  left(): void {
    clearTimeout(this.helloTimer);
    if (this.claims) this.parts.connected.leave(this.claims.conversationId, this);
  }
}
