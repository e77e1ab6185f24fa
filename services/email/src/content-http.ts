// The stored attachments' internal HTTP port (EMAIL_CONTENT_HTTP_PORT), bound to loopback by
// default: only the content path (libs/web content-edge), for the desk.
import http from 'node:http';
import type { Registry } from 'prom-client';
import type { TrustedKey } from '#libs/auth';
import { errorDetails, sharedCounter, type Logger } from '#libs/observability';
import { createContentEdge, sendJson } from '#libs/web';
import type { EmailStore } from './store';

interface ContentHttpDeps {
  keys: readonly TrustedKey[];
  store: Pick<EmailStore, 'attachment'>;
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
  const server = http.createServer((req, res) => {
    edge(req, res).then(
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
