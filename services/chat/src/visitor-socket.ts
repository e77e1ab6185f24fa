// The chat's WebSocket edge: the upgrade on /chat (origin and socket caps checked first), and
// each socket's life, handed to a session as a line that sends frames and closes.
import type http from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { errorDetails, type Logger } from '#libs/observability';
import { clientAddress } from '#libs/web';
import { AdmissionRefused, originAllowed, type ChatAdmission } from './admission';
import type { ChatConfig } from './config';
import type { ChatMetrics } from './metrics';
import { CLOSE } from './protocol';
import { turnAway, type VisitorLine } from './session';

/** What the socket tells the session it opened. */
export interface LineListener {
  received(raw: string): void;
  left(): void;
}

export interface VisitorSocketsParts {
  config: Pick<ChatConfig, 'CHAT_ALLOWED_ORIGINS' | 'CHAT_MAX_FRAME_BYTES' | 'TRUSTED_PROXIES'>;
  admission: ChatAdmission;
  metrics: Pick<ChatMetrics, 'closes'>;
  log: Logger;
  /** Opens the session of a socket admission let in. */
  open(line: VisitorLine, origin: string, address: string): LineListener;
}

/** Refuses an upgrade with a plain HTTP answer. */
function refuse(socket: Duplex, status: number, text: string): void {
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${text.length}\r\n\r\n${text}`);
}

function lineOf(ws: WebSocket, closes: ChatMetrics['closes']): VisitorLine {
  return {
    get open() {
      return ws.readyState === ws.OPEN;
    },
    send(frame) {
      if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(frame));
    },
    close(code, reason, countedAs = reason) {
      closes.inc({ reason: countedAs });
      ws.close(code, reason);
    },
  };
}

export function createVisitorSockets({ config, admission, metrics, log, open }: VisitorSocketsParts) {
  const allowed = new Set(config.CHAT_ALLOWED_ORIGINS);
  const wss = new WebSocketServer({ noServer: true, maxPayload: config.CHAT_MAX_FRAME_BYTES, perMessageDeflate: false });

  function connected(ws: WebSocket, origin: string, address: string): void {
    const line = lineOf(ws, metrics.closes);
    try {
      admission.openSocket(address);
    } catch (err) {
      if (err instanceof AdmissionRefused) return turnAway(line, err, log);
      throw err;
    }
    ws.once('close', () => admission.closeSocket(address));
    const session = open(line, origin, address);
    ws.on('error', (err) => log.debug(errorDetails(err), 'visitor socket error'));
    ws.on('message', (data: RawData, isBinary: boolean) => {
      if (isBinary) return line.close(CLOSE.unsupportedData, 'text frames only');
      session.received(data.toString());
    });
    ws.on('close', () => session.left());
  }

  function upgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): void {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/chat') return refuse(socket, 404, 'Not Found');
    const origin = req.headers.origin ?? '';
    if (!originAllowed(origin, req.headers.host ?? '', allowed)) {
      metrics.closes.inc({ reason: 'origin' });
      log.warn({ origin: origin.slice(0, 200) }, 'WebSocket refused: origin not allowed');
      return refuse(socket, 403, 'Forbidden');
    }
    const address = clientAddress(req, config.TRUSTED_PROXIES);
    // Accepted first, then closed if over a cap: only a close code reaches the widget.
    wss.handleUpgrade(req, socket, head, (ws) => connected(ws, origin, address));
  }

  return {
    upgrade,
    /** Open visitor sockets on this instance. */
    connections: () => wss.clients.size,
    close(): void {
      for (const client of wss.clients) client.close(CLOSE.goingAway, 'server stopping');
      wss.close();
    },
  };
}
