// Wiring of the chat channel: HTTP (widget, demo page, ops paths), the WebSocket endpoint,
// visitor messages into Kafka, and outbound messages from Kafka to whichever socket is here.
import http from 'node:http';
import type { ISocketFactory } from 'kafkajs';
import { followErasures, StoredAppliedErasures } from '#libs/erasure';
import { closeServer, errorDetails, listen } from '#libs/observability';
import { connectKafka, connectMongo, type ServiceContext } from '#libs/service';
import { AttachmentFiles } from '#libs/store/attachments';
import { createContentEdge } from '#libs/web';
import { admissionLimits, ChatAdmission } from './admission';
import type { ChatConfig } from './config';
import { ConnectedVisitors } from './connected';
import { createFrameHandler } from './frames';
import { createPagesHandler } from './http';
import { createUploadEdge } from './uploads';
import { eraseChatData } from './erasure';
import { ChatEvents, consumeOutbound } from './kafka';
import { chatMetrics } from './metrics';
import { createOutboundDelivery } from './outbound';
import type { ChatParts } from './parts';
import { VisitorSession } from './session';
import { ChatStore } from './store';
import { VerificationStore } from './verification-store';
import { createVerifier } from './verify';
import { StartSteps } from './start-steps';
import { createVisitorSockets } from './visitor-socket';

export interface ChatOverrides {
  socketFactory?: ISocketFactory;
  /** Collection name prefix, so tests keep their data apart. */
  collectionPrefix?: string;
}

export interface ChatService {
  port: number;
  store: ChatStore;
  /** Open visitor sockets on this instance. */
  connections(): number;
}

export async function startChat(ctx: ServiceContext, config: ChatConfig, overrides: ChatOverrides = {}): Promise<ChatService> {
  const log = ctx.logger.child({ component: 'chat' });
  const steps = new StartSteps(log);
  // The store and Kafka are independent: connected side by side, a restart waits for the slower.
  const [{ db, store, codes }, kafka] = await Promise.all([
    steps.time('store', async () => {
      const { db } = await connectMongo(ctx, config);
      const store = new ChatStore(db, overrides.collectionPrefix, { staleClaimMs: config.CHAT_PUBLISH_TIMEOUT_MS + 10_000 });
      const codes = new VerificationStore(db, overrides.collectionPrefix);
      await Promise.all([store.init(), codes.init()]);
      return { db, store, codes };
    }),
    steps.time('kafka topics and producer', () =>
      connectKafka(ctx, config, { publishTimeoutMs: config.CHAT_PUBLISH_TIMEOUT_MS, socketFactory: overrides.socketFactory }),
    ),
  ]);
  const events = new ChatEvents(kafka.producer);

  const parts: ChatParts = {
    config,
    store,
    events,
    log,
    metrics: chatMetrics(ctx.metrics),
    connected: new ConnectedVisitors(),
    admission: new ChatAdmission(admissionLimits(config)),
    verifier: createVerifier({ config, store, codes, publish: (message) => events.outbound(message) }),
  };
  const sessionParts = { ...parts, handleFrame: createFrameHandler(parts) };
  const sockets = createVisitorSockets({ ...parts, open: (line, origin, address) => new VisitorSession(line, origin, address, sessionParts) });
  const files = new AttachmentFiles(db, `${overrides.collectionPrefix ?? 'chat'}_attachments`, 'chat');
  // Erased customers' chats go before any visitor is served, and as each erasure arrives.
  await steps.time('erasures', () =>
    followErasures(
      { kafka: kafka.kafka, logger: log, name: ctx.name, secret: config.ERASURE_KEY, db, onStop: (what, stop) => ctx.onStop(what, stop) },
      { what: 'chat store', apply: (erased) => eraseChatData({ store, codes, files }, erased) },
      // Collections under another prefix are another store, which keeps its own progress.
      new StoredAppliedErasures(db, overrides.collectionPrefix ? `${ctx.name}:${overrides.collectionPrefix}` : ctx.name),
    ),
  );
  const uploads = createUploadEdge({ ...parts, files });
  // The desk fetches uploaded files here with a person's token, once customer-record let them open it.
  const content = config.AUTH_PUBLIC_KEYS_DIR
    ? createContentEdge({ keys: config.AUTH_PUBLIC_KEYS_DIR, audience: 'chat', find: (sha256) => files.find(sha256), logger: log })
    : undefined;
  const pages = createPagesHandler(ctx.metrics, ctx.readiness, config.METRICS_TOKEN);
  const server = http.createServer((req, res) => {
    const answered = async () => (await uploads(req, res)) || (content ? await content(req, res) : false);
    answered().then(
      (done) => done || pages(req, res),
      (err: unknown) => {
        log.error(errorDetails(err), 'chat request failed');
        if (!res.headersSent) res.writeHead(500).end();
      },
    );
  });
  server.on('upgrade', sockets.upgrade);

  // Visitors are served while the outbound group joins: a reply read after the join reaches the
  // socket then, and a visitor who resumes gets what was stored meanwhile (the hello's replay).
  const joined = steps.time('outbound group join', () => consumeOutbound(kafka, ctx.instanceId, createOutboundDelivery(parts)));
  const listening = (async () => {
    const port = await steps.time('listen', () => listen(server, config.HTTP_PORT, config.BIND_HOST));
    ctx.onStop('chat http', async () => {
      sockets.close();
      await closeServer(server);
    });
    log.info({ port }, 'chat listening');
    steps.done('chat listening and ready');
    return port;
  })();
  const [, port] = await Promise.all([joined, listening]);
  steps.done('chat outbound group joined');
  return { port, store, connections: sockets.connections };
}
