// Wires the email service: store, Kafka, inbound SMTP, outbound consumer, health, survey links,
// the stored attachments' internal port.
import type { ISocketFactory } from 'kafkajs';
import { closeServer, listen } from '#libs/observability';
import { claimerOf } from '#libs/delivery';
import { followErasures } from '#libs/erasure';
import { topics, type EventProducer } from '#libs/kafka';
import { connectKafka, connectMongo, serveOps, type ServiceContext } from '#libs/service';
import type { TrustedKey } from '#libs/auth';
import { Calendars } from '#libs/calendars';
import { followCalendars } from './calendars-feed';
import type { EmailConfig } from './config';
import { createContentServer } from './content-http';
import { createOutboundHandler } from './outbound';
import { createSmtpServer } from './smtp-server';
import { EmailStore } from './store';
import { createSurveyServer } from './survey-http';

export async function startEmailService(ctx: ServiceContext, config: EmailConfig, options: { socketFactory?: ISocketFactory; now?: () => Date } = {}) {
  const { db } = await connectMongo(ctx, config);
  const store = new EmailStore(db, claimerOf(ctx.instanceId));
  await store.ensureIndexes();
  const { kafka, producer, consumer } = await connectKafka(ctx, config, { publishTimeoutMs: config.PUBLISH_TIMEOUT_MS, socketFactory: options.socketFactory });
  // Thread documents of erased customers go before mail is taken, and as each erasure arrives.
  await followErasures(
    { kafka, logger: ctx.logger, name: ctx.name, secret: config.ERASURE_KEY, db, onStop: (what, stop) => ctx.onStop(what, stop) },
    { what: 'email threads', apply: (erased) => store.erase(erased) },
  );

  // Parts stop in reverse order of registration. Shutdown runs: stop listening for SMTP, stop
  // retrying outbound mail, stop the outbound consumer (it commits), close the outbound
  // transport, then wait (bounded) for open SMTP sessions, which may still publish, so the
  // producer and the store are closed after them.
  let smtpClosed: Promise<void> = Promise.resolve();
  ctx.onStop('smtp sessions', () => smtpClosed);

  if (config.EMAIL_OUTBOUND_ENABLED) {
    const outbound = createOutboundHandler({ config, store, producer, logger: ctx.logger, metrics: ctx.metrics });
    ctx.onStop('outbound transport', () => outbound.close());
    await consumer({ groupId: config.EMAIL_OUTBOUND_GROUP }).on(topics.outbound, outbound.handler).start();
    ctx.onStop('outbound retries', () => outbound.stopRetrying());
  }

  // The configured calendars are the seed; a supervisor's change in routing replaces them live.
  const seed = config.EMAIL_CALENDARS_JSON ?? {};
  const calendars = new Calendars(seed);
  if (config.EMAIL_CALENDARS_DEPLOYMENT)
    await followCalendars(
      { kafka, logger: ctx.logger, name: ctx.name, onStop: (what, stop) => ctx.onStop(what, stop) },
      calendars,
      seed,
      config.EMAIL_CALENDARS_DEPLOYMENT,
    );
  const smtp = createSmtpServer({
    config,
    store,
    producer,
    logger: ctx.logger,
    metrics: ctx.metrics,
    calendars,
    ...(options.now ? { now: options.now } : {}),
  });
  const smtpPort = await listen(smtp.server, config.SMTP_PORT, config.BIND_HOST);
  ctx.onStop('smtp listener', () => {
    smtpClosed = new Promise<void>((resolve) => smtp.close(() => resolve()));
  });
  const httpPort = await serveOps(ctx, config.HTTP_PORT, config.BIND_HOST);
  const surveyPort = config.EMAIL_SURVEY_LINK_KEY ? await serveSurveyLinks(ctx, config, config.EMAIL_SURVEY_LINK_KEY, store, producer) : undefined;
  const contentPort = config.AUTH_PUBLIC_KEYS_DIR ? await serveContent(ctx, config, config.AUTH_PUBLIC_KEYS_DIR, store) : undefined;
  return { smtpPort, httpPort, surveyPort, contentPort, store };
}

async function serveContent(ctx: ServiceContext, config: EmailConfig, keys: readonly TrustedKey[], store: EmailStore): Promise<number> {
  const server = createContentServer({ keys, store, maxUploadBytes: config.EMAIL_REPLY_ATTACHMENT_MAX_BYTES, logger: ctx.logger, metrics: ctx.metrics });
  const port = await listen(server, config.EMAIL_CONTENT_HTTP_PORT, config.EMAIL_CONTENT_BIND_HOST);
  ctx.onStop('attachment content', () => closeServer(server));
  return port;
}

async function serveSurveyLinks(ctx: ServiceContext, config: EmailConfig, key: string, store: EmailStore, producer: EventProducer): Promise<number> {
  const server = createSurveyServer({ config, key, store, producer, logger: ctx.logger, metrics: ctx.metrics });
  const port = await listen(server, config.EMAIL_SURVEY_HTTP_PORT, config.BIND_HOST);
  ctx.onStop('survey links', () => closeServer(server));
  return port;
}
