// The HTTP edge Twilio reaches: the ops endpoints, the load balancer's readiness, the desk's
// call controls, then the webhooks; anything else is 404, and a handler that fails outright still gets an answer.
import http from 'node:http';
import { errorDetails, type Logger } from '#libs/observability';
import { inSpan, SpanKind } from '#libs/tracing';

type Handles = (req: http.IncomingMessage, res: http.ServerResponse) => boolean;

interface WebhookServerParts {
  /** /metrics, /healthz, /readyz. */
  ops: Handles;
  /** /readyz/webhooks, for the load balancer. */
  webhookReady: Handles;
  /** The desk's call controls (control-edge.ts), with the agent's token instead of Twilio's signature. */
  controls: (req: http.IncomingMessage, res: http.ServerResponse) => Promise<boolean>;
  webhooks: (req: http.IncomingMessage, res: http.ServerResponse) => Promise<boolean>;
  logger: Logger;
}

/** Twilio gives up on a webhook after 15 s: no request is held longer. */
const WEBHOOK_REQUEST_TIMEOUT_MS = 15_000;

export function createWebhookServer({ ops, webhookReady, controls, webhooks, logger }: WebhookServerParts): http.Server {
  const server = http.createServer((req, res) => {
    if (ops(req, res) || webhookReady(req, res)) return;
    // A Twilio webhook is where an SMS's or a call's trace starts.
    const attributes = { 'http.request.method': req.method ?? '', 'url.path': (req.url ?? '/').split('?')[0]! };
    inSpan('twilio webhook', { kind: SpanKind.SERVER, attributes }, async () => (await controls(req, res)) || webhooks(req, res)).then(
      (handled) => {
        if (!handled) res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      },
      (err: unknown) => {
        logger.error(errorDetails(err), 'webhook handler failed');
        if (!res.headersSent) res.writeHead(500).end();
      },
    );
  });
  server.requestTimeout = WEBHOOK_REQUEST_TIMEOUT_MS;
  return server;
}
