// Wires the sms-voice service: store, Kafka, the webhook server, the outbound consumer.
import http from 'node:http';
import type { ISocketFactory } from 'kafkajs';
import { topics } from '../../../libs/kafka';
import { closeServer, createOpsHandler, errorDetails, listen } from '../../../libs/observability';
import { connectKafka, connectMongo, type ServiceContext } from '../../../libs/service';
import type { SmsVoiceConfig } from './config';
import { createOutboundHandler } from './outbound';
import { SmsVoiceStore } from './store';
import { createWebhookHandler } from './webhooks';

export async function startSmsVoiceService(ctx: ServiceContext, config: SmsVoiceConfig, options: { socketFactory?: ISocketFactory } = {}) {
  const { db } = await connectMongo(ctx, config);
  const store = new SmsVoiceStore(db);
  const { producer, consumer } = await connectKafka(ctx, config, { publishTimeoutMs: config.PUBLISH_TIMEOUT_MS, socketFactory: options.socketFactory });
  await consumer({ groupId: config.SMS_OUTBOUND_GROUP })
    .on(topics.outbound, createOutboundHandler({ config, store, producer, logger: ctx.logger, metrics: ctx.metrics }))
    .start();

  const ops = createOpsHandler(ctx.metrics, ctx.readiness);
  const webhooks = createWebhookHandler({ config, store, producer, logger: ctx.logger, metrics: ctx.metrics });
  const server = http.createServer((req, res) => {
    if (ops(req, res)) return;
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
