// One attempt at a delivery: a POST of the JSON body with its signature headers, to an address
// checked as it is connected to (targets.ts), within a timeout, following no redirect, reading
// at most a few KiB of the answer. Only a 2xx answer is a delivery; everything else is retried.
import http from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import { checkTargetUrl, guardedLookup, isAllowedAddress, TargetRefusedError } from './targets';

export interface AttemptResult {
  ok: boolean;
  statusCode?: number;
  error?: string;
  durationMs: number;
}

export type Send = (url: string, headers: Record<string, string>, body: string) => Promise<AttemptResult>;

export interface SenderOptions {
  timeoutMs: number;
  allowPrivate: boolean;
  userAgent: string;
  /** What is read of an answer before the connection is closed. */
  maxResponseBytes?: number;
}

export function createSender(options: SenderOptions): { send: Send; close(): void } {
  const lookup = guardedLookup(options.allowPrivate);
  // Kept-alive connections: a subscription's deliveries reuse theirs (each was checked when it was made).
  const agents = { 'http:': new http.Agent({ keepAlive: true, maxSockets: 64 }), 'https:': new https.Agent({ keepAlive: true, maxSockets: 64 }) };
  const maxResponse = options.maxResponseBytes ?? 4096;

  const send: Send = (target, headers, body) => {
    const started = performance.now();
    const took = () => Math.round(performance.now() - started);
    let url: URL;
    try {
      url = checkTargetUrl(target, options.allowPrivate);
    } catch (err) {
      return Promise.resolve({ ok: false, error: (err as Error).message, durationMs: 0 });
    }
    const protocol = url.protocol as 'http:' | 'https:';
    return new Promise<AttemptResult>((resolve) => {
      let settled = false;
      const finish = (result: Omit<AttemptResult, 'durationMs'>) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve({ ...result, durationMs: took() });
      };
      const request = (protocol === 'https:' ? https : http).request(url, {
        method: 'POST',
        agent: agents[protocol],
        lookup,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'user-agent': options.userAgent, ...headers },
      });
      const timer = setTimeout(() => {
        request.destroy();
        finish({ ok: false, error: `no answer within ${options.timeoutMs} ms` });
      }, options.timeoutMs);
      request.on('socket', (socket: Socket) => {
        // The address actually connected to is checked too (an IP literal never goes through the lookup).
        if (socket.connecting) socket.once('connect', () => checkConnected(socket, options.allowPrivate, request));
      });
      request.on('error', (err: Error & { code?: string }) =>
        finish({ ok: false, error: err instanceof TargetRefusedError ? err.message : (err.code ?? err.message) }),
      );
      request.on('response', (res) => {
        const statusCode = res.statusCode ?? 0;
        let read = 0;
        res.on('data', (chunk: Buffer) => {
          read += chunk.length;
          if (read > maxResponse) res.destroy();
        });
        const done = () =>
          finish(
            statusCode >= 200 && statusCode < 300
              ? { ok: true, statusCode }
              : { ok: false, statusCode, ...(statusCode >= 300 && statusCode < 400 ? { error: 'redirects are not followed' } : {}) },
          );
        res.on('end', done);
        res.on('close', done);
        res.on('error', done);
      });
      request.end(body);
    });
  };
  return {
    send,
    close() {
      agents['http:'].destroy();
      agents['https:'].destroy();
    },
  };
}

function checkConnected(socket: Socket, allowPrivate: boolean, request: http.ClientRequest): void {
  const address = socket.remoteAddress;
  if (!address || !isAllowedAddress(address, allowPrivate))
    request.destroy(new TargetRefusedError(`connected to ${address ?? 'an unknown address'}, which is not a public address`));
}
