// Starts chat instances in-process and drives them with real `ws` clients.
import { MongoClient, MongoServerError } from 'mongodb';
import WebSocket from 'ws';
import type { ISocketFactory } from 'kafkajs';
import { loadConfig } from '#libs/config';
import { EventProducer, createKafka, topics } from '#libs/kafka';
import { Channel, OutboundKind, OutboundMessage } from '#libs/proto';
import type { ServiceContext } from '#libs/service';
import { KAFKA_BROKERS, MONGODB_URI, testContext, uniqueId, waitFor } from '#libs/testing';
import { chatConfig as chatConfigSchema, type ChatConfig } from '../src/config';
import { startChat, type ChatService } from '../src/service';

export const SECRET = 'test-secret-0123456789-abcdefghijklmnop';
export const ALLOWED_ORIGIN = 'http://shop.example';
export const DATABASE = 'contactcenter_chat_test';

/** Drops the collections chat instances with this prefix wrote (a collection never written is fine). */
export async function dropChatCollections(prefix: string): Promise<void> {
  const client = await MongoClient.connect(MONGODB_URI);
  try {
    for (const name of ['conversations', 'messages', 'numbers', 'profiles', 'conversation_facts', 'verification_codes', 'verification_tries', 'attachments']) {
      await client
        .db(DATABASE)
        .collection(`${prefix}_${name}`)
        .drop()
        .catch((err: unknown) => {
          if (!(err instanceof MongoServerError && err.code === 26)) throw err;
        });
    }
  } finally {
    await client.close();
  }
}

export function chatConfig(env: Record<string, string> = {}): ChatConfig {
  return loadConfig(chatConfigSchema, {
    HTTP_PORT: '0',
    KAFKA_BROKERS: KAFKA_BROKERS.join(','),
    MONGODB_URI,
    MONGODB_DATABASE: DATABASE,
    CHAT_TOKEN_SECRET: SECRET,
    CHAT_ALLOWED_ORIGINS: ALLOWED_ORIGIN,
    // Every test visitor comes from 127.0.0.1: the caps per address have tests of their own.
    CHAT_MAX_NEW_CONVERSATIONS_PER_ADDRESS: '100000',
    CHAT_MAX_SOCKETS_PER_ADDRESS: '100000',
    ...env,
  });
}

export interface Instance {
  ctx: ServiceContext;
  chat: ChatService;
  url: string;
}

export async function startInstance(prefix: string, env: Record<string, string> = {}, socketFactory?: ISocketFactory): Promise<Instance> {
  const ctx = testContext('chat');
  const chat = await startChat(ctx, chatConfig(env), { collectionPrefix: prefix, socketFactory });
  return { ctx, chat, url: `ws://127.0.0.1:${chat.port}/chat` };
}

/** Resolves once the instance's outbound consumer has handled a record published now (its group starts at the end). */
export async function outboundReady(instances: Instance[], producer: EventProducer): Promise<void> {
  const handled = async (i: Instance) => {
    const metric = await i.ctx.metrics.getSingleMetric('cc_kafka_consumed_total')?.get();
    return (metric?.values ?? []).filter((v) => v.labels.topic === topics.outbound.name).reduce((n, v) => n + v.value, 0);
  };
  const before = await Promise.all(instances.map(handled));
  await waitFor(
    async () => {
      await publishOutbound(producer, { conversationId: uniqueId('probe'), kind: OutboundKind.OUTBOUND_KIND_TYPING });
      const now = await Promise.all(instances.map(handled));
      return now.every((n, k) => n > (before[k] ?? 0));
    },
    30_000,
    'outbound consumers to read new records',
  );
}

export async function testProducer(ctx: ServiceContext): Promise<EventProducer> {
  const kafka = createKafka({ brokers: KAFKA_BROKERS, clientId: uniqueId('routing-sim'), logger: ctx.logger });
  const producer = new EventProducer(kafka, { source: 'contactcenter/test/routing' });
  await producer.connect();
  ctx.onStop('test producer', () => producer.disconnect());
  return producer;
}

export async function publishOutbound(producer: EventProducer, message: Partial<OutboundMessage> & { conversationId: string }): Promise<string> {
  const value = OutboundMessage.fromPartial({
    messageId: uniqueId('out'),
    channel: Channel.CHANNEL_CHAT,
    kind: OutboundKind.OUTBOUND_KIND_REPLY,
    createdAt: new Date(),
    ...message,
  });
  await producer.publish(topics.outbound, value.conversationId, value, { id: value.messageId });
  return value.messageId;
}

export type Frame = Record<string, any> & { type: string };

export class Visitor {
  readonly frames: Frame[] = [];
  closed?: { code: number; reason: string };
  token?: string;
  conversationId?: string;
  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => this.frames.push(JSON.parse(data.toString()) as Frame));
    ws.on('close', (code, reason) => (this.closed = { code, reason: reason.toString() }));
    ws.on('error', () => undefined);
  }

  static async open(url: string, origin = ALLOWED_ORIGIN): Promise<Visitor> {
    const ws = new WebSocket(url, { origin });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
      ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    });
    return new Visitor(ws);
  }

  /** Opens a connection and says hello; resolves with the welcome. */
  static async start(url: string, hello: Record<string, unknown> = {}, origin?: string): Promise<Visitor> {
    const v = await Visitor.open(url, origin);
    v.send({ type: 'hello', ...hello });
    const welcome = await v.next((f) => f.type === 'welcome');
    v.token = welcome.token;
    v.conversationId = welcome.conversationId;
    return v;
  }

  send(frame: unknown): void {
    this.ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  next(predicate: (f: Frame) => boolean, timeoutMs = 20_000): Promise<Frame> {
    return waitFor(() => this.frames.find(predicate), timeoutMs, 'a matching frame');
  }

  entries(): Frame[] {
    return this.frames.filter((f) => f.type === 'entry');
  }

  async closedWith(timeoutMs = 10_000): Promise<{ code: number; reason: string }> {
    return waitFor(() => this.closed, timeoutMs, 'the connection to close');
  }

  close(): void {
    this.ws.terminate();
  }
}
