// Wires the sms-voice service: store, Kafka, the webhook server, the outbound consumer.
import http from 'node:http';
import type { ISocketFactory } from 'kafkajs';
import { ConfigError } from '../../../libs/config';
import { topics } from '../../../libs/kafka';
import { closeServer, createOpsHandler, errorDetails, listen } from '../../../libs/observability';
import { connectKafka, connectMongo, type ServiceContext } from '../../../libs/service';
import type { SmsVoiceConfig } from './config';
import { createOutboundHandler } from './outbound';
import { ContactSpool, webhookReadiness } from './spool';
import { SmsVoiceStore } from './store';
import { noWaitEstimates, routingWaitEstimates } from './wait-estimates';
import { createWebhookHandler } from './webhooks';

export async function startSmsVoiceService(ctx: ServiceContext, config: SmsVoiceConfig, options: { socketFactory?: ISocketFactory } = {}) {
  const { db } = await connectMongo(ctx, config);
  const store = new SmsVoiceStore(db);
  const { producer, consumer } = await connectKafka(ctx, config, { publishTimeoutMs: config.PUBLISH_TIMEOUT_MS, socketFactory: options.socketFactory });
  const outboundStopping = new AbortController();
  await consumer({ groupId: config.SMS_OUTBOUND_GROUP })
    .on(topics.outbound, createOutboundHandler({ config, store, producer, logger: ctx.logger, metrics: ctx.metrics, signal: outboundStopping.signal }))
    .start();
  // Runs before the consumer stops: an SMS waiting for its next try is left for later, not held.
  ctx.onStop('outbound retries', () => outboundStopping.abort());

  const contacts = await ContactSpool.start({
    dir: config.SMS_VOICE_SPOOL_DIR,
    limits: { maxRecords: config.SMS_VOICE_SPOOL_MAX_RECORDS, maxBytes: config.SMS_VOICE_SPOOL_MAX_BYTES },
    producer,
    logger: ctx.logger,
    metrics: ctx.metrics,
  });
  ctx.onStop('contact spool', () => contacts.stop());
  // /readyz says Kafka is down when it does not acknowledge; /readyz/webhooks (for the load balancer) stays up while the spool has room.
  ctx.readiness.add('kafka', () => producer.isConnected && contacts.kafkaAcknowledging);
  const webhookReady = webhookReadiness(ctx.readiness, contacts);

  // Twilio reaches this port: /metrics needs the bearer token here.
  const ops = createOpsHandler(ctx.metrics, ctx.readiness, { publicPort: { metricsToken: config.METRICS_TOKEN } });
  let waitEstimates = noWaitEstimates;
  if (config.ROUTING_GRPC_ADDR) {
    if (!config.AUTH_PRIVATE_KEY_FILE) throw new ConfigError([{ variable: 'AUTH_PRIVATE_KEY_FILE', message: "must be set when ROUTING_GRPC_ADDR is: sms-voice signs its calls to routing with its own key" }]);
    const routing = routingWaitEstimates(config.ROUTING_GRPC_ADDR, config.AUTH_PRIVATE_KEY_FILE, ctx.logger);
    waitEstimates = routing.estimate;
    ctx.onStop('routing client', () => routing.close());
  }
  const webhooks = createWebhookHandler({ config, store, contacts, logger: ctx.logger, metrics: ctx.metrics, waitEstimates });
  const server = http.createServer((req, res) => {
    if (ops(req, res) || webhookReady(req, res)) return;
    webhooks(req, res).then(
      (handled) => {
        if (!handled) res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      },
      (err: unknown) => {
        ctx.logger.error(errorDetails(err), 'webhook handler failed');
        if (!res.headersSent) res.writeHead(500).end();
      },
    );
  });
  server.requestTimeout = 15_000;
  const port = await listen(server, config.HTTP_PORT, config.BIND_HOST);
  ctx.onStop('http server', () => closeServer(server));
  return { port, store };
}
