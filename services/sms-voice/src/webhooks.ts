// Twilio's webhooks over HTTP: every request's signature checked first, then handed to its SMS
// or voice route. A webhook carrying a contact answers 200 only after Kafka acknowledged it or
// the local spool has it on disk (Twilio does not retry a failed SMS webhook by itself); 503
// when neither, for Twilio's retries or Fallback URL (webhook-errors.ts gives each status).
import type http from 'node:http';
import twilio from 'twilio';
import type { Registry } from 'prom-client';
import { errorDetails, sharedCounter, type Logger } from '#libs/observability';
import { RateLimiter } from '#libs/rate-limit';
import { clientAddress } from '#libs/web';
import type { SmsVoiceConfig } from './config';
import { smsRoutes } from './sms-webhooks';
import type { ContactSpool } from './spool';
import type { SmsVoiceStore } from './store';
import { voiceRoutes } from './voice-webhooks';
import { noWaitEstimates, type WaitEstimates } from './wait-estimates';
import { BadSignatureError, NotPostError, SourceCutOffError, webhookReplyTo } from './webhook-errors';
import { readWebhookForm, WebhookFormError, type WebhookParams } from './webhook-form';
import { routeContext, type Route } from './webhook-routes';

const routes: Record<string, Route> = { ...smsRoutes, ...voiceRoutes };

export interface WebhookDeps {
  config: SmsVoiceConfig;
  store: SmsVoiceStore;
  /** Where contacts and conversation events go: Kafka, or the spool while Kafka does not acknowledge. */
  contacts: Pick<ContactSpool, 'deliver' | 'deliverEvent'>;
  logger: Logger;
  metrics: Registry;
  waitEstimates?: WaitEstimates;
  /** By default nobody is dialled into an answered callback (tests of other webhooks). */
  bridgeCallback?: (callSid: string) => Promise<void>;
  now?: () => Date;
}

/** Answers a request for one of the webhook paths (true), or leaves it to the caller (false). */
export function createWebhookHandler(deps: WebhookDeps) {
  const { config, logger } = deps;
  const ctx = routeContext({
    config,
    store: deps.store,
    contacts: deps.contacts,
    waitEstimates: deps.waitEstimates ?? noWaitEstimates,
    bridgeCallback: deps.bridgeCallback ?? (() => Promise.resolve()),
    now: deps.now ?? (() => new Date()),
  });
  const counted = sharedCounter(deps.metrics, {
    name: 'cc_twilio_webhooks_total',
    help: 'Twilio webhooks by route and HTTP status',
    labelNames: ['route', 'status'],
  });
  // Signed requests are never limited (Twilio's volume is the business); an address that keeps
  // sending bad signatures is cut off for the rest of the minute.
  const refusedSources = new RateLimiter(config.BAD_SIGNATURES_PER_MINUTE, 60_000);

  /** The request's fields, once it is a POST from an address not cut off, with Twilio's signature. */
  const signedParams = async (req: http.IncomingMessage): Promise<WebhookParams> => {
    if (req.method !== 'POST') throw new NotPostError();
    const source = clientAddress(req, config.TRUSTED_PROXIES);
    if (refusedSources.isOver(source, Date.now())) throw new SourceCutOffError();
    let params: WebhookParams;
    try {
      params = await readWebhookForm(req, config.WEBHOOK_MAX_BYTES);
    } catch (err) {
      // Twilio never sends such a body: it counts as an unsigned request.
      if (err instanceof WebhookFormError) refusedSources.take(source, Date.now());
      throw err;
    }
    const signature = req.headers['x-twilio-signature'];
    // Signed over the public URL Twilio called, which a proxy may hide from us.
    if (typeof signature !== 'string' || !twilio.validateRequest(config.TWILIO_AUTH_TOKEN, signature, ctx.base + (req.url ?? ''), params)) {
      refusedSources.take(source, Date.now());
      throw new BadSignatureError();
    }
    return params;
  };

  return async (req: http.IncomingMessage, res: http.ServerResponse): Promise<boolean> => {
    const path = (req.url ?? '/').split('?')[0]!;
    const route = routes[path];
    if (!route) return false;
    let status = 200;
    try {
      // The query is signed with the URL: a status callback's own parameters (see callbacks.ts).
      const body = await route(ctx, await signedParams(req), new URL(req.url ?? '/', 'http://webhook').searchParams);
      res.writeHead(200, { 'content-type': 'text/xml' }).end(body);
    } catch (err) {
      const reply = webhookReplyTo(err);
      status = reply.status;
      if (status >= 500) logger.warn({ path, status, ...errorDetails(err) }, 'webhook not accepted');
      res.writeHead(status, reply.headers).end(reply.body);
    } finally {
      counted.inc({ route: path, status: String(status) });
    }
    return true;
  };
}
