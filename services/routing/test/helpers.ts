// Shared by the routing integration tests: configuration, an agent's gRPC client, contacts.
import { credentials, Metadata, type ClientReadableStream, type ServiceError } from '@grpc/grpc-js';
import { afterAll, beforeAll } from 'vitest';
import type { Role } from '#libs/auth';
import { loadConfig } from '#libs/config';
import { topics } from '#libs/kafka';
import { Channel, ContactKind, ConversationEvent, IdentityKind, RoutingServiceClient, type WatchAssignmentsResponse } from '#libs/proto';
import { connectKafka, type ServiceContext, type ServiceKafka } from '#libs/service';
import { dropDatabase, KAFKA_BROKERS, MONGODB_URI, testAuthEnv, testContext, testMetadata, uniqueId } from '#libs/testing';
import { routingConfig, type RoutingConfig } from '../src/config';

export function configFor(database: string, group: string, extra: Record<string, string> = {}): RoutingConfig {
  return loadConfig(routingConfig, {
    KAFKA_BROKERS: KAFKA_BROKERS.join(','),
    MONGODB_URI,
    MONGODB_DATABASE: database,
    GRPC_PORT: '0',
    HTTP_PORT: '0',
    ...testAuthEnv('routing'),
    ROUTING_CONSUMER_GROUP: group,
    ROUTING_TICK_MS: '50',
    ROUTING_SESSION_TIMEOUT_MS: '6000',
    ROUTING_HEARTBEAT_MS: '500',
    LOG_LEVEL: 'silent',
    ...extra,
  });
}

export async function client(port: number, id: string, role: Role) {
  const c = new RoutingServiceClient(`127.0.0.1:${port}`, credentials.createInsecure());
  // A service's id is its name (sms-voice, ops-console); a person's token comes from their desk.
  const md = await testMetadata({ id, role }, 'routing');
  const call = <Req, Res>(method: (req: Req, md: Metadata, cb: (err: ServiceError | null, res: Res) => void) => unknown, req: Req) =>
    new Promise<Res>((resolve, reject) => method.call(c, req, md, (err, res) => (err ? reject(err) : resolve(res))));
  const updates: WatchAssignmentsResponse[] = [];
  const streamErrors: ServiceError[] = [];
  let stream: ClientReadableStream<WatchAssignmentsResponse> | undefined;
  return {
    raw: c,
    md,
    call,
    updates,
    streamErrors,
    watch() {
      stream = c.watchAssignments({}, md);
      stream.on('data', (u: WatchAssignmentsResponse) => updates.push(u));
      stream.on('error', (err: ServiceError) => streamErrors.push(err));
    },
    close() {
      stream?.cancel();
      c.close();
    },
  };
}

export function contact(conversationId: string, text: string) {
  return {
    contactId: uniqueId('msg'),
    conversationId,
    channel: Channel.CHANNEL_CHAT,
    kind: ContactKind.CONTACT_KIND_MESSAGE,
    receivedAt: new Date(),
    sender: { kind: IdentityKind.IDENTITY_KIND_CHAT_VISITOR, value: uniqueId('visitor'), namespace: '' },
    senderDisplayName: 'Ana',
    newConversation: true,
    conversationReference: 'AB12CD',
    subject: '',
    text,
    quotedText: '',
    attachments: [],
    identityHints: [],
    claimedIdentities: [],
    language: 'en',
    externalId: uniqueId('ext'),
    channelMetadata: {},
  };
}

export const decodeEvent = (v: Buffer | null) => ConversationEvent.decode(v!);

/**
 * A new consumer group starts at the end of the topic once its first fetch resolves the
 * offset; a contact written just before that is not seen. Channels retry with the same
 * contact id (de-duplicated by routing), and so does this.
 */
export async function deliver(kafka: ServiceKafka, message: ReturnType<typeof contact>, seen: () => boolean): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    await kafka.producer.publish(topics.contactInbound, message.conversationId, message);
    const until = Date.now() + 3000;
    while (Date.now() < until) {
      if (seen()) return;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  throw new Error('routing never took the contact');
}

/**
 * Other tests' routing instances (their own consumer groups) read the same inbound topic and
 * publish their own decisions about our contacts: count only what these instances published.
 */
export function publishedBy(record: { headers: Record<string, string> }, ...instances: { instanceId: string }[]): boolean {
  const source = record.headers.ce_source ?? '';
  return instances.some((i) => source.endsWith(`/${i.instanceId}`));
}

/** A skill of the test's own, so its agents are offered its conversations first. */
export function ownSkill(): { skill: string; env: Record<string, string> } {
  const skill = `t${uniqueId('').replace(/-/g, '').slice(0, 10)}`;
  return { skill, env: { ROUTING_RULES_JSON: JSON.stringify([{ id: skill, when: { keywords: [skill] }, then: { skill } }]) } };
}

/**
 * Answers a desk's offers as they come: accepts the test's own conversations (once each) and
 * declines anyone else's (other tests' contacts reach a whole-tier step eventually).
 */
export function answerOffers(
  desk: Awaited<ReturnType<typeof client>>,
  decide: (conversationId: string) => 'accept' | 'decline' | 'leave',
): { accepted: string[]; stop(): void } {
  const accepted: string[] = [];
  let seen = 0;
  let busy = false;
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    void (async () => {
      while (seen < desk.updates.length) {
        const u = desk.updates[seen++]!.update;
        if (u?.$case !== 'offer') continue;
        const id = u.offer.conversationId;
        try {
          const decision = decide(id);
          if (decision === 'accept') {
            await desk.call(desk.raw.acceptOffer, { conversationId: id });
            accepted.push(id);
          } else if (decision === 'decline') await desk.call(desk.raw.declineOffer, { conversationId: id });
        } catch {
          // The offer may have expired or moved; the conversation comes back if it is still ours.
        }
      }
    })().finally(() => (busy = false));
  }, 25);
  return { accepted, stop: () => clearInterval(timer) };
}

/** The test file's own producer and the databases its routing instances used, dropped at the end. */
export function useRoutingHarness(): { readonly kafka: ServiceKafka; database(prefix: string): string } {
  let harness: ServiceContext;
  let kafka: ServiceKafka | undefined;
  const databases: string[] = [];
  beforeAll(async () => {
    harness = testContext('routing-harness');
    kafka = await connectKafka(harness, { KAFKA_BROKERS, KAFKA_TOPIC_PARTITIONS: 3, KAFKA_REPLICATION_FACTOR: 1 });
  });
  afterAll(async () => {
    await harness.stop();
    for (const db of databases) await dropDatabase(db);
  });
  return {
    get kafka() {
      if (!kafka) throw new Error('the routing test harness has not started');
      return kafka;
    },
    database(prefix) {
      const name = uniqueId(prefix).replace(/-/g, '_');
      databases.push(name);
      return name;
    },
  };
}
