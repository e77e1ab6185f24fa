// Starts the whole service in-process on ephemeral ports against the real store and broker,
// in a database of its own, with a gRPC client and a token per role.
import { credentials, Metadata, type ServiceError } from '@grpc/grpc-js';
import type { Db } from 'mongodb';
import { ROLES, type Role } from '#libs/auth';
import { loadConfig } from '#libs/config';
import * as proto from '#libs/proto';
import { CustomerRecordServiceClient } from '#libs/proto';
import type { ServiceContext } from '#libs/service';
import { KAFKA_BROKERS, MONGODB_URI, testAuthEnv, testContext, testToken, uniqueId } from '#libs/testing';
import { customerRecordConfig } from '../src/config';
import { startCustomerRecord, type CustomerRecordService } from '../src/service';

/** A new email conversation's first contact, as the email service publishes it; `over` changes what a test needs. */
export function emailContact(over: Partial<proto.ContactReceived> = {}): proto.ContactReceived {
  return proto.ContactReceived.fromPartial({
    contactId: uniqueId('contact'),
    conversationId: uniqueId('conv'),
    channel: proto.Channel.CHANNEL_EMAIL,
    kind: proto.ContactKind.CONTACT_KIND_MESSAGE,
    receivedAt: new Date(),
    newConversation: true,
    subject: 'Invoice question',
    text: 'My invoice is wrong',
    ...over,
  } as never);
}

/** Whether a method of the service answers with a stream of messages. */
function isStreamed(method: string): boolean {
  return (proto.CustomerRecordServiceService as unknown as Record<string, { responseStream: boolean } | undefined>)[method]?.responseStream === true;
}

export interface Harness {
  ctx: ServiceContext;
  service: CustomerRecordService;
  client: InstanceType<typeof CustomerRecordServiceClient>;
  database: string;
  tokens: Record<Role, string>;
  call<Req, Res>(method: string, request: Req, role?: Role | null, token?: string): Promise<Res>;
  stop(): Promise<void>;
}

export async function startHarness(options: { database?: string; groupId?: string; env?: Record<string, string>; auditDb?: Db } = {}): Promise<Harness> {
  const database = options.database ?? uniqueId('cr').replace(/-/g, '_');
  const ctx = testContext('customer-record');
  const config = loadConfig(customerRecordConfig, {
    KAFKA_BROKERS: KAFKA_BROKERS.join(','),
    MONGODB_URI,
    MONGODB_DATABASE: database,
    GRPC_PORT: '0',
    HTTP_PORT: '0',
    ...testAuthEnv('customer-record'),
    PROJECTION_GROUP_ID: options.groupId ?? uniqueId('cr-projection'),
    PROJECTION_FROM_BEGINNING: 'false',
    // Tests poll the API as a person every 25 ms while the projection catches up, which a slow
    // machine turns into more than the default 600 calls a minute; the limit has its own test.
    CALLER_RATE_LIMIT_PER_MINUTE: '1000000',
    ...options.env,
  });
  const service = await startCustomerRecord(ctx, config, { auditDb: options.auditDb });
  const client = new CustomerRecordServiceClient(`127.0.0.1:${service.grpcPort}`, credentials.createInsecure());
  // A service token's caller id is the service's name; routing is the one granted reads.
  const tokens = Object.fromEntries(
    await Promise.all(ROLES.map(async (role) => [role, await testToken({ id: callerId(role), role }, 'customer-record')])),
  ) as Record<Role, string>;
  const call = <Req, Res>(method: string, request: Req, role: Role | null = 'supervisor', token?: string) =>
    new Promise<Res>((resolve, reject) => {
      const metadata = new Metadata();
      const bearer = token ?? (role ? tokens[role] : undefined);
      if (bearer) metadata.set('authorization', `Bearer ${bearer}`);
      const fn = (client as unknown as Record<string, (req: Req, md: Metadata, cb: (err: ServiceError | null, res: Res) => void) => void>)[method]!;
      const type = (proto as unknown as Record<string, { fromPartial(o: unknown): Req }>)[`${method[0]!.toUpperCase()}${method.slice(1)}Request`]!;
      if (!isStreamed(method)) {
        fn.call(client, type.fromPartial(request), metadata, (err, res) => (err ? reject(err) : resolve(res)));
        return;
      }
      // A server stream answers with every message it sent, in order, once it ends.
      const messages: unknown[] = [];
      const stream = (fn as unknown as (req: Req, md: Metadata) => NodeJS.EventEmitter).call(client, type.fromPartial(request), metadata);
      stream.on('data', (m: unknown) => messages.push(m));
      stream.on('error', reject);
      stream.on('end', () => resolve(messages as Res));
    });
  return {
    ctx,
    service,
    client,
    database,
    tokens,
    call,
    async stop() {
      client.close();
      await ctx.stop();
    },
  };
}

/** The caller id of each role's token in the harness. */
export function callerId(role: Role): string {
  return role === 'service' ? 'routing' : `${role}-1`;
}

/** A token for any person or service, e.g. a second agent. */
export function tokenFor(id: string, role: Role): Promise<string> {
  return testToken({ id, role }, 'customer-record');
}

/** Routing's offer of a conversation to a person, as the projection reads it from the topic. */
export function offered(conversationId: string, agentId: string, occurredAt = new Date()): proto.ConversationEvent {
  return proto.ConversationEvent.fromPartial({
    eventId: uniqueId('ev-offer'),
    conversationId,
    occurredAt,
    step: { $case: 'offered', offered: { agentId } },
  } as never);
}

/** A step of a conversation (assigned, resolved, ...) for the access projection. */
export function step(conversationId: string, value: proto.ConversationEvent['step'], occurredAt = new Date()): proto.ConversationEvent {
  return proto.ConversationEvent.fromPartial({ eventId: uniqueId('ev'), conversationId, occurredAt, step: value } as never);
}

/** A supervisor's reason, required for every read of theirs. */
export const REASON = 'quality review of the conversation';

export { dropDatabase } from '#libs/testing';
