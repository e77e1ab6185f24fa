// POST /api/reply-file: a file an agent or expert attaches to an email reply. The desk checks
// size, type (by the bytes) and rate for its people, then has the email service keep the file,
// asked with the person's own token; the page puts the answer on the reply, and routing checks
// it again (email only, on a conversation the person holds) when the reply is sent.
import { RateLimiter } from '#libs/rate-limit';
import {
  acceptedUploadType,
  BodyTooLargeError,
  ForbiddenError,
  HttpError,
  readUpload,
  sendJson,
  TooManyRequestsError,
  uploadFileName,
  type StaffSignIn,
} from '#libs/web';
import type { AttachmentContent } from './attachments';
import { caller, type Route } from './http';
import { WORKERS } from './sign-in';

export interface ReplyFileLimits {
  maxBytes: number;
  perMinute: number;
}

export function replyFileRoute(signIn: StaffSignIn, attachments: AttachmentContent, limits: ReplyFileLimits): Route {
  const uploads = new RateLimiter(limits.perMinute, 60_000);
  return async (req, res) => {
    const session = await signIn.changing(req);
    if (!WORKERS.includes(session.role)) throw new ForbiddenError(`a ${session.role} does not attach files to replies`);
    if (!uploads.take(session.staffId, Date.now())) throw new TooManyRequestsError(`at most ${limits.perMinute} files a minute; try again in a minute`, 60_000);
    const name = uploadFileName(req.headers['x-file-name']);
    let bytes: Buffer;
    try {
      bytes = await readUpload(req, limits.maxBytes);
    } catch (err) {
      // The rest of an over-limit body is not read: the connection is closed after the answer.
      if (err instanceof BodyTooLargeError) res.setHeader('connection', 'close');
      throw err;
    }
    const type = acceptedUploadType(String(req.headers['content-type'] ?? ''), bytes);
    if (!type) throw new HttpError(415, 'only images (PNG, JPEG, GIF, WebP), PDF and plain text may be attached, and the file must be what it claims to be');
    const kept = await attachments.keepForReply(caller(session), bytes, type);
    sendJson(res, 200, { name, ...kept });
  };
}
