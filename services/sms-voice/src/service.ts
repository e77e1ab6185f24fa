// Wires the sms-voice service: store, Kafka, the webhook server, the outbound consumer.
import type { ISocketFactory } from 'kafkajs';
import { claimerOf } from '#libs/delivery';
import { followErasures } from '#libs/erasure';
import { topics } from '#libs/kafka';
import { closeServer, createOpsHandler, listen } from '#libs/observability';
import { connectKafka, connectMongo, type ServiceContext } from '#libs/service';
import { StaffRoster } from '#libs/staff';
import type { SmsVoiceConfig } from './config';
import { createCallbackBridge } from './callback-bridge';
import { agentAddress } from './calls';
import { createControlEdge } from './control-edge';
import { eraseSmsVoiceData, eraseSpooled } from './erasure';
import { createOutboundHandler } from './outbound';
import { RecordingRetention } from './recording-retention';
import { ContactSpool, webhookReadiness } from './spool';
import { SmsVoiceStore } from './store';
import { createTwilioClient } from './twilio-client';
import { noWaitEstimates, routingWaitEstimatesFor } from './wait-estimates';
import { createWebhookHandler } from './webhooks';
import { createWebhookServer } from './webhook-server';

export async function startSmsVoiceService(ctx: ServiceContext, config: SmsVoiceConfig, options: { socketFactory?: ISocketFactory } = {}) {
  const { client, db } = await connectMongo(ctx, config);
  const store = new SmsVoiceStore(db, claimerOf(ctx.instanceId));
  const roster = new StaffRoster(client.db(config.STAFF_DB));
  const agentPhone = async (agentId: string) => {
    const member = await roster.get(agentId);
    return member?.answerCallsOn === 'phone' ? member.phone : undefined;
  };
  const { kafka, producer, consumer } = await connectKafka(ctx, config, { publishTimeoutMs: config.PUBLISH_TIMEOUT_MS, socketFactory: options.socketFactory });
  const outboundStopping = new AbortController();
  await consumer({ groupId: config.SMS_OUTBOUND_GROUP })
    .on(
      topics.outbound,
      createOutboundHandler({ config, store, producer, logger: ctx.logger, metrics: ctx.metrics, signal: outboundStopping.signal, agentPhone }),
    )
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

  const twilioClient = createTwilioClient(config);
  const retention = new RecordingRetention({ store, client: twilioClient, logger: ctx.logger, metrics: ctx.metrics });
  const sweep = setInterval(() => void retention.sweep(), config.VOICE_RECORDING_SWEEP_MS);
  ctx.onStop('recording retention', () => clearInterval(sweep));

  // Erased customers' numbers, calls and spooled webhooks go before webhooks are taken, and as each erasure arrives.
  await followErasures(
    { kafka, logger: ctx.logger, name: ctx.name, secret: config.ERASURE_KEY, db, onStop: (what, stop) => ctx.onStop(what, stop) },
    {
      what: 'sms-voice store and spool',
      apply: (erased) => eraseSmsVoiceData({ store, sweepRecordings: () => retention.sweep() }, erased),
      applyLocal: (erased) => eraseSpooled(contacts, erased),
    },
  );

  const routing = routingWaitEstimatesFor(config, ctx.logger);
  if (routing) ctx.onStop('routing client', () => routing.close());
  const server = createWebhookServer({
    // Twilio reaches this port: /metrics needs the bearer token here.
    ops: createOpsHandler(ctx.metrics, ctx.readiness, { publicPort: { metricsToken: config.METRICS_TOKEN } }),
    webhookReady: webhookReadiness(ctx.readiness, contacts),
    controls: createControlEdge({
      keys: config.AUTH_PUBLIC_KEYS_DIR,
      store,
      client: twilioClient,
      contacts,
      holdMusicUrl: config.VOICE_HOLD_MUSIC_URL,
      addressOf: async (staffId) => {
        const number = await agentPhone(staffId);
        return agentAddress(number ? { number } : { clientId: staffId });
      },
      logger: ctx.logger,
    }),
    webhooks: createWebhookHandler({
      config,
      store,
      contacts,
      logger: ctx.logger,
      metrics: ctx.metrics,
      waitEstimates: routing?.estimate ?? noWaitEstimates,
      bridgeCallback: createCallbackBridge({ store, client: twilioClient, logger: ctx.logger, producer }),
    }),
    logger: ctx.logger,
  });
  const port = await listen(server, config.HTTP_PORT, config.BIND_HOST);
  ctx.onStop('http server', () => closeServer(server));
  return { port, store };
}
