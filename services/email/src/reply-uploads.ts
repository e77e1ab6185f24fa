// POST /internal/attachments on the attachments' port: a file an agent attaches to a reply,
// sent by the desk with the agent's own token. Kept once per content hash (as customers' files
// are) and answered with the reference the reply carries. The type is judged by the bytes.
import { createHash } from 'node:crypto';
import type http from 'node:http';
import type { TokenVerifier } from '#libs/auth';
import type { Logger } from '#libs/observability';
import { RateLimiter } from '#libs/rate-limit';
import { acceptedUploadType, bearerCaller, HttpError, readUpload, sendJson } from '#libs/web';
import type { EmailStore } from './store';

export const UPLOAD_PATH = '/internal/attachments';
const WRITERS = new Set(['agent', 'expert']);
/** Uploads one person may make a minute here; the desk limits its people more tightly. */
const UPLOADS_PER_MINUTE = 60;

export interface ReplyUploadDeps {
  verify: TokenVerifier;
  store: Pick<EmailStore, 'storeAttachment'>;
  maxBytes: number;
  logger: Logger;
}

export function createReplyUploads(deps: ReplyUploadDeps) {
  const badTokens = new RateLimiter(20, 60_000);
  const uploads = new RateLimiter(UPLOADS_PER_MINUTE, 60_000);
  return async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    const caller = await bearerCaller(req, deps.verify, badTokens);
    if (!WRITERS.has(caller.role)) throw new HttpError(403, `a ${caller.role} does not attach files to replies`);
    if (!uploads.take(caller.id, Date.now())) throw new HttpError(429, `at most ${UPLOADS_PER_MINUTE} files a minute; try again in a minute`);
    const content = await readUpload(req, deps.maxBytes);
    const claimed = String(req.headers['content-type'] ?? '');
    const type = acceptedUploadType(claimed, content);
    if (!type) throw new HttpError(415, 'only images (PNG, JPEG, GIF, WebP), PDF and plain text may be attached, and the file must be what it claims to be');
    const sha256 = createHash('sha256').update(content).digest('hex');
    const storageRef = await deps.store.storeAttachment(sha256, type, content);
    deps.logger.info({ staffId: caller.id, sha256, sizeBytes: content.length }, 'reply attachment stored');
    sendJson(res, 201, { storageRef, sha256, sizeBytes: content.length, contentType: type });
  };
}
