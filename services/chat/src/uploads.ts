// A visitor's file, sent over HTTP beside the WebSocket (a frame is for text): POST /upload
// with the session's token as Bearer, the file as the body, its name in X-File-Name
// (percent-encoded) and the widget's message id in X-Client-Message-Id. Refused in words: 401 a
// bad token, 413 over the size limit, 415 a type off the allow-list (judged by the bytes), 429
// over the per-conversation rate. A kept file becomes a visitor message whose event carries it
// as an Attachment (`chat-attachment:<sha256>`), numbered and published like typed text.
import { createHash } from 'node:crypto';
import type http from 'node:http';
import { KafkaUnavailableError } from '#libs/kafka';
import { errorDetails } from '#libs/observability';
import { RateLimiter } from '#libs/rate-limit';
import type { AttachmentFiles } from '#libs/store/attachments';
import { acceptedUploadType, BodyTooLargeError, HttpError, readUpload, sendJson, TooManyRequestsError, UnsupportedBodyError, uploadFileName } from '#libs/web';
import { originAllowed } from './admission';
import { visitorContact } from './events';
import { visitorDraft } from './visitor-message';
import type { ChatParts } from './parts';
import { InvalidTokenError, verifyVisitorToken, type VisitorClaims } from './token';

const UPLOAD_PATH = '/upload';
const CLIENT_MESSAGE_ID = /^[A-Za-z0-9_-]{1,64}$/;

type UploadParts = Pick<ChatParts, 'config' | 'store' | 'events' | 'log'> & { files: AttachmentFiles };

export function createUploadEdge(parts: UploadParts) {
  const { config } = parts;
  const perConversation = new RateLimiter(config.CHAT_UPLOADS_PER_MINUTE, 60_000);
  const allowed = new Set(config.CHAT_ALLOWED_ORIGINS);

  /** The widget on a customer's site uploads cross-origin: only from the origins the WebSocket admits. */
  const cors = (req: http.IncomingMessage): Record<string, string> => {
    const origin = req.headers.origin ?? '';
    if (!originAllowed(origin, req.headers.host ?? '', allowed)) return {};
    return {
      'access-control-allow-origin': origin,
      'access-control-allow-methods': 'POST',
      'access-control-allow-headers': 'authorization, content-type, x-file-name, x-client-message-id',
      'access-control-max-age': '600',
      vary: 'Origin',
    };
  };

  const run = async (req: http.IncomingMessage) => {
    if (req.method !== 'POST') throw new HttpError(405, 'files are uploaded with POST');
    const claims = visitor(config.CHAT_TOKEN_SECRET, req.headers.authorization);
    if (!perConversation.take(claims.conversationId, Date.now()))
      throw new TooManyRequestsError(`more than ${config.CHAT_UPLOADS_PER_MINUTE} files a minute in this chat; try again shortly`, 60_000);
    const clientMessageId = String(req.headers['x-client-message-id'] ?? '');
    if (!CLIENT_MESSAGE_ID.test(clientMessageId)) throw new HttpError(400, 'X-Client-Message-Id must be 1-64 letters, digits, _ or -');
    const name = uploadFileName(req.headers['x-file-name']);
    const bytes = await readUpload(req, config.CHAT_UPLOAD_MAX_BYTES);
    const type = acceptedUploadType(String(req.headers['content-type'] ?? ''), bytes);
    if (!type) throw new UnsupportedBodyError('this kind of file cannot be sent here: send an image (PNG, JPEG, GIF, WebP), a PDF or plain text');
    return publish(parts, claims, clientMessageId, req.headers.origin ?? '', { name, type, bytes });
  };

  /** Answers the upload path (true), or leaves the request to the pages (false). */
  return async (req: http.IncomingMessage, res: http.ServerResponse): Promise<boolean> => {
    if ((req.url ?? '').split('?')[0] !== UPLOAD_PATH) return false;
    const headers = cors(req);
    if (req.method === 'OPTIONS') {
      res.writeHead(204, headers).end();
      return true;
    }
    try {
      sendJson(res, 200, await run(req), headers);
    } catch (err) {
      const known = err instanceof HttpError;
      if (!known) parts.log.error(errorDetails(err), 'chat upload failed');
      // The rest of an over-limit body is not read: the connection is closed after the answer.
      if (err instanceof BodyTooLargeError) res.setHeader('connection', 'close');
      sendJson(res, known ? err.status : 500, { error: known ? err.message : 'internal error' }, { ...headers, ...(known ? err.headers : {}) });
    }
    return true;
  };
}

function visitor(secret: string, authorization: string | undefined): VisitorClaims {
  const token = /^Bearer\s+(\S+)$/i.exec(authorization ?? '')?.[1];
  if (!token) throw new HttpError(401, "send the chat session's token as Authorization: Bearer <token>");
  try {
    return verifyVisitorToken(secret, token);
  } catch (err) {
    if (err instanceof InvalidTokenError) throw new HttpError(401, err.message);
    throw err;
  }
}

/** Keeps the file, then numbers and publishes the message like a typed one (a resend gets the same number). */
async function publish(
  parts: UploadParts,
  claims: VisitorClaims,
  clientMessageId: string,
  origin: string,
  file: { name: string; type: string; bytes: Buffer },
) {
  const { store, events } = parts;
  const sha256 = createHash('sha256').update(file.bytes).digest('hex');
  const storageRef = await parts.files.store(sha256, file.type, file.bytes, claims.conversationId);
  const draft = visitorDraft(claims.conversationId, clientMessageId, `Sent a file: ${file.name}`);
  const [stored] = await Promise.all([store.claim(draft), store.ensureConversation(claims)]);
  if (stored?.accepted) return { seq: stored.seq, storageRef };
  const doc = stored ?? { ...draft, ...(await store.number(draft)) };
  const numbered = { seq: doc.seq, newConversation: doc.newConversation ?? false };
  const contact = visitorContact(
    claims,
    { origin, profile: await store.profile(claims.conversationId) },
    { clientMessageId, ...numbered, text: doc.text, at: doc.at },
  );
  contact.attachments = [{ name: file.name, contentType: file.type, sizeBytes: file.bytes.length, sha256, storageRef }];
  try {
    await events.visitorMessage(contact);
  } catch (err) {
    if (!(err instanceof KafkaUnavailableError)) throw err;
    if (!stored) await store.markNumbered(doc._id, { ...numbered, accepted: false });
    throw new HttpError(503, 'the file could not be passed on just now; send it again');
  }
  await store.markNumbered(doc._id, { ...numbered, accepted: true });
  return { seq: doc.seq, storageRef };
}
