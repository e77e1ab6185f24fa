// Starts the whole service in-process on ephemeral ports against the real store and broker,
// in a database of its own, with a gRPC client and a token per role.
import { credentials, Metadata, type ServiceError } from '@grpc/grpc-js';
import { ROLES, type Role } from '../../../libs/auth';
import { loadConfig } from '../../../libs/config';
import * as proto from '../../../libs/proto';
import { CustomerRecordServiceClient } from '../../../libs/proto';
import type { ServiceContext } from '../../../libs/service';
import { KAFKA_BROKERS, MONGODB_URI, testAuthEnv, testContext, testToken, uniqueId } from '../../../libs/testing';
import { customerRecordConfig, startCustomerRecord, type CustomerRecordService } from '../src/service';

export interface Harness {
  ctx: ServiceContext;
  service: CustomerRecordService;
  client: InstanceType<typeof CustomerRecordServiceClient>;
  database: string;
  tokens: Record<Role, string>;
  call<Req, Res>(method: string, request: Req, role?: Role | null, token?: string): Promise<Res>;
  stop(): Promise<void>;
}

export async function startHarness(options: { database?: string; groupId?: string; env?: Record<string, string> } = {}): Promise<Harness> {
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
  const service = await startCustomerRecord(ctx, config);
  const client = new CustomerRecordServiceClient(`127.0.0.1:${service.grpcPort}`, credentials.createInsecure());
  // A service token is routing's own, the one service that calls customer-record.
  const tokens = Object.fromEntries(await Promise.all(ROLES.map(async (role) => [role, await testToken({ id: role === 'service' ? 'routing' : `${role}-1`, role }, 'customer-record')]))) as Record<Role, string>;
  const call = <Req, Res>(method: string, request: Req, role: Role | null = 'supervisor', token?: string) =>
    new Promise<Res>((resolve, reject) => {
      const metadata = new Metadata();
      const bearer = token ?? (role ? tokens[role] : undefined);
      if (bearer) metadata.set('authorization', `Bearer ${bearer}`);
      const fn = (client as unknown as Record<string, (req: Req, md: Metadata, cb: (err: ServiceError | null, res: Res) => void) => void>)[method]!;
      const type = (proto as unknown as Record<string, { fromPartial(o: unknown): Req }>)[`${method[0]!.toUpperCase()}${method.slice(1)}Request`]!;
      fn.call(client, type.fromPartial(request), metadata, (err, res) => (err ? reject(err) : resolve(res)));
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

export { dropDatabase } from '../../../libs/testing';
