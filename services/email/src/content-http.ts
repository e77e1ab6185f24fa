// The stored attachments' internal HTTP edge, on a port of its own bound to loopback by default
// (EMAIL_CONTENT_HTTP_PORT): GET /internal/attachments/<sha256> answers a file's bytes to the desk,
// which asks with the signed-in person's token (signed by the desk, addressed to email) only
// after customer-record authorised and audited that person's opening of that file.
import http from 'node:http';
import type { Registry } from 'prom-client';
import { createTokenVerifier, type Caller, type TokenVerifier, type TrustedKey } from '#libs/auth';
import { errorDetails, sharedCounter, type Logger } from '#libs/observability';
import { RateLimiter } from '#libs/rate-limit';
import { HttpError, sendJson } from '#libs/web';
import type { EmailStore } from './store';

const CONTENT_PATH = '/internal/attachments/';
const READERS = new Set(['agent', 'expert', 'supervisor']);
const BAD_TOKENS_PER_MINUTE = 20;

interface ContentHttpDeps {
  keys: readonly TrustedKey[];
  store: Pick<EmailStore, 'attachment'>;
  logger: Logger;
  metrics: Registry;
}

/** The one place a content request's failure gets its status. */
function failure(err: unknown): { status: number; message: string } {
  if (err instanceof HttpError) return { status: err.status, message: err.message };
  return { status: 500, message: 'internal error' };
}

export function createContentServer(deps: ContentHttpDeps): http.Server {
  const verify = createTokenVerifier({ keys: deps.keys, audience: 'email' });
  const counted = sharedCounter(deps.metrics, {
    name: 'cc_email_attachment_reads_total',
    help: 'Attachment content requests by HTTP status',
    labelNames: ['status'],
  });
  const badTokens = new RateLimiter(BAD_TOKENS_PER_MINUTE, 60_000);
  const server = http.createServer((req, res) => {
    serve(req, res, verify, badTokens, deps).then(
      (status) => counted.inc({ status: String(status) }),
      (err: unknown) => {
        const { status, message } = failure(err);
        if (status === 500) deps.logger.error(errorDetails(err), 'attachment content not served');
        counted.inc({ status: String(status) });
        sendJson(res, status, { error: message });
      },
    );
  });
  server.requestTimeout = 15_000;
  return server;
}

async function serve(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  verify: TokenVerifier,
  badTokens: RateLimiter,
  deps: ContentHttpDeps,
): Promise<number> {
  const path = (req.url ?? '/').split('?')[0]!;
  if (!path.startsWith(CONTENT_PATH)) throw new HttpError(404, 'not found');
  if (req.method !== 'GET') throw new HttpError(405, 'attachment content is read with GET');
  const caller = await callerOf(req, verify, badTokens);
  if (!READERS.has(caller.role)) throw new HttpError(403, `a ${caller.role} does not open attachments`);
  const sha256 = path.slice(CONTENT_PATH.length);
  if (!/^[0-9a-f]{64}$/.test(sha256)) throw new HttpError(400, 'the attachment is named by the lower-case hex sha256 of its content');
  const found = await deps.store.attachment(sha256);
  if (!found) throw new HttpError(404, 'no attachment with this content is stored');
  // Ids only: who opened which content, never the file's name or the customer.
  deps.logger.info({ staffId: caller.id, role: caller.role, sha256 }, 'attachment content read');
  res
    .writeHead(200, {
      'content-type': 'application/octet-stream',
      'content-length': String(found.content.length),
      'x-attachment-content-type': found.contentType.replace(/[^\x20-\x7e]/g, ''),
      'x-content-type-options': 'nosniff',
      'cache-control': 'no-store',
    })
    .end(found.content);
  return 200;
}

async function callerOf(req: http.IncomingMessage, verify: TokenVerifier, badTokens: RateLimiter): Promise<Caller> {
  const from = req.socket.remoteAddress ?? '';
  if (badTokens.isOver(from, Date.now())) throw new HttpError(429, 'too many requests with bad tokens from this address; try again in a minute');
  const refuse = (message: string) => {
    badTokens.take(from, Date.now());
    return new HttpError(401, message);
  };
  const token = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
  if (!token) throw refuse('missing bearer token');
  return verify(token).catch((err: unknown) => {
    throw refuse(err instanceof Error ? err.message : 'invalid token');
  });
}
