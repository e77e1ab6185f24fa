// The stored attachments' internal HTTP port (EMAIL_CONTENT_HTTP_PORT), bound to loopback by
// default: only the content path (libs/web content-edge), for the desk, and the upload of a
// file an agent attaches to a reply (reply-uploads.ts).
import http from 'node:http';
import type { Registry } from 'prom-client';
import { createTokenVerifier, type TrustedKey } from '#libs/auth';
import { errorDetails, sharedCounter, type Logger } from '#libs/observability';
import { createContentEdge, HttpError, sendJson } from '#libs/web';
import { createReplyUploads, UPLOAD_PATH } from './reply-uploads';
import type { EmailStore } from './store';

interface ContentHttpDeps {
  keys: readonly TrustedKey[];
  store: Pick<EmailStore, 'attachment' | 'storeAttachment'>;
  /** Largest file an agent may attach to a reply. */
  maxUploadBytes: number;
  logger: Logger;
  metrics: Registry;
}

export function createContentServer(deps: ContentHttpDeps): http.Server {
  const counted = sharedCounter(deps.metrics, {
    name: 'cc_email_attachment_reads_total',
    help: 'Attachment content requests by HTTP status',
    labelNames: ['status'],
  });
  const edge = createContentEdge({
    keys: deps.keys,
    audience: 'email',
    find: (sha256) => deps.store.attachment(sha256),
    logger: deps.logger,
    counted: (status) => counted.inc({ status: String(status) }),
  });
  const upload = createReplyUploads({
    verify: createTokenVerifier({ keys: deps.keys, audience: 'email' }),
    store: deps.store,
    maxBytes: deps.maxUploadBytes,
    logger: deps.logger,
  });
  const answer = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<boolean> => {
    if (req.method !== 'POST' || (req.url ?? '').split('?')[0] !== UPLOAD_PATH) return edge(req, res);
    try {
      await upload(req, res);
    } catch (err) {
      if (!(err instanceof HttpError)) throw err;
      // The connection is closed after a refusal: the rest of a file too large is not read.
      res.setHeader('connection', 'close');
      sendJson(res, err.status, { error: err.message });
    }
    return true;
  };
  const server = http.createServer((req, res) => {
    answer(req, res).then(
      (answered) => {
        if (!answered) sendJson(res, 404, { error: 'not found' });
      },
      (err: unknown) => {
        deps.logger.error(errorDetails(err), 'attachment content request failed');
        if (!res.headersSent) res.writeHead(500).end();
      },
    );
  });
  server.requestTimeout = 15_000;
  return server;
}
