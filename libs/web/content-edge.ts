// The internal path a channel service answers stored files on: GET /internal/attachments/<sha256>
// for the desk, which asks with the signed-in person's token (signed by the desk, addressed to
// the service) only after customer-record authorised and audited that person's opening of the
// file. Shared by email (its own loopback port) and chat (beside its widget).
import type http from 'node:http';
import { createTokenVerifier, type Caller, type Audience, type TokenVerifier, type TrustedKey } from '#libs/auth';
import { errorDetails, type Logger } from '#libs/observability';
import { RateLimiter } from '#libs/rate-limit';
import { HttpError } from './errors';
import { sendJson } from './http';

const CONTENT_PATH = '/internal/attachments/';
const READERS = new Set(['agent', 'expert', 'supervisor']);
/** An address sending this many bad tokens a minute is refused until the minute ends. */
const BAD_TOKENS_PER_MINUTE = 20;

export interface StoredFile {
  contentType: string;
  content: Buffer;
}

interface ContentEdgeDeps {
  keys: readonly TrustedKey[];
  audience: Audience;
  find(sha256: string): Promise<StoredFile | undefined>;
  logger: Logger;
  /** Counts each answer by status. */
  counted?: (status: number) => void;
}

/** Answers the content path (true), or leaves the request to the service's other paths (false). */
export function createContentEdge(deps: ContentEdgeDeps) {
  const verify = createTokenVerifier({ keys: deps.keys, audience: deps.audience });
  const badTokens = new RateLimiter(BAD_TOKENS_PER_MINUTE, 60_000);
  return async (req: http.IncomingMessage, res: http.ServerResponse): Promise<boolean> => {
    if (!(req.url ?? '').startsWith(CONTENT_PATH)) return false;
    try {
      await serve(req, res, verify, badTokens, deps);
      deps.counted?.(200);
    } catch (err) {
      const status = err instanceof HttpError ? err.status : 500;
      if (status === 500) deps.logger.error(errorDetails(err), 'attachment content not served');
      deps.counted?.(status);
      sendJson(res, status, { error: err instanceof HttpError ? err.message : 'internal error' });
    }
    return true;
  };
}

async function serve(req: http.IncomingMessage, res: http.ServerResponse, verify: TokenVerifier, badTokens: RateLimiter, deps: ContentEdgeDeps): Promise<void> {
  if (req.method !== 'GET') throw new HttpError(405, 'attachment content is read with GET');
  const caller = await bearerCaller(req, verify, badTokens);
  if (!READERS.has(caller.role)) throw new HttpError(403, `a ${caller.role} does not open attachments`);
  const sha256 = (req.url ?? '').split('?')[0]!.slice(CONTENT_PATH.length);
  if (!/^[0-9a-f]{64}$/.test(sha256)) throw new HttpError(400, 'the attachment is named by the lower-case hex sha256 of its content');
  const found = await deps.find(sha256);
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
}

/**
 * The caller of an internal path reached with a service-signed bearer token: 401 without a good
 * one, and 429 for an address that sent too many bad ones this minute (`badTokens` counts them).
 */
export async function bearerCaller(req: http.IncomingMessage, verify: TokenVerifier, badTokens: RateLimiter): Promise<Caller> {
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
